"""{% usage_row %} escapes what it shows as Django's autoescape would: an address and row
labels carrying markup (the database refuses such addresses, the row must not rely on it),
and hostile searches and display names entered through the page, in English and French."""
import pytest
from django.template import Context, Template
from django.utils import translation

from domains.models import Domain, Mailbox, QuotaUsage
from domains.templatetags import panel
from tests.factories import DomainFactory, MailboxFactory, SuperadminFactory
from tests.quota.test_usage_rows import REFERENCE

pytestmark = pytest.mark.django_db

HOSTILE = '<script>"x"&\'y\'</script>'
ESCAPED = "&lt;script&gt;&quot;x&quot;&amp;&#x27;y&#x27;&lt;/script&gt;"
BUILT = Template("{% load quota_rows %}{% usage_row usage %}")


@pytest.fixture
def hostile_labels(monkeypatch):
    """Every fixed word of the row as a translation that carries markup."""
    monkeypatch.setitem(panel.ROW_LABELS, "usage", {name: f"{HOSTILE}{name}" for name in panel.ROW_LABELS["usage"]})
    panel._row_labels.cache_clear()
    yield
    panel._row_labels.cache_clear()


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("quota_bytes", [0, 1024])
@pytest.mark.parametrize("written", [False, True])
def test_hostile_address_and_labels_come_out_escaped(hostile_labels, language, quota_bytes, written):
    domain = Domain(name="xn--exmple-cua.org")
    mailbox = Mailbox(domain=domain, local_part="x", address=f"{HOSTILE}@xn--exmple-cua.org", quota_bytes=quota_bytes)
    usage = QuotaUsage(mailbox=mailbox, bytes=2048, messages=3, fill_ratio=2.0 if quota_bytes else None,
                       updated_at=None)
    if written:
        from django.utils import timezone

        usage.updated_at = timezone.now()
    with translation.override(language):
        html = BUILT.render(Context({"usage": usage}))
        assert html == REFERENCE.render(Context({"usage": usage}))
    assert "<script" not in html and '"x"' not in html and "'y'" not in html
    assert f"<td>{ESCAPED}@exämple.org</td>" in html
    assert f'data-label="{ESCAPED}used"' in html and f'data-label="{ESCAPED}last_update"' in html
    if not quota_bytes:
        assert f">{ESCAPED}unlimited<" in html
    if not written:
        assert f">{ESCAPED}no_mail_yet<" in html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_hostile_search_and_names_on_the_page(client, language):
    mailbox = MailboxFactory(domain=DomainFactory(name="hostile.example"), local_part="a", name=HOSTILE, quota_bytes=0)
    client.force_login(SuperadminFactory())
    for hx in ({}, {"HTTP_HX_REQUEST": "true"}):
        html = client.get("/quota/", {"q": HOSTILE}, HTTP_ACCEPT_LANGUAGE=language, **hx).content.decode()
        assert "<script>" not in html
        assert f"<td>{mailbox.display_address}</td>" in html  # found by its display name
