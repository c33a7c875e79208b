"""IDN names (issue 14): found by their Unicode name on every list page, shown in Unicode with
the punycode where an admin decides, and the idna library's errors in our own words."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from domains.addresses import normalize_domain, search_terms
from domains.alias_forms import DomainChoiceField
from domains.models import Domain
from tests.factories import AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db

CAFE = "xn--caf-dma.example"  # café.example


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    translation.activate("en")


@pytest.fixture
def world(client):
    client.force_login(SuperadminFactory())
    cafe = DomainFactory(name=CAFE)
    other = DomainFactory(name="plain.example")
    MailboxFactory(domain=cafe, local_part="anna", address=f"anna@{CAFE}")
    MailboxFactory(domain=other, local_part="zed", address="zed@plain.example")
    AliasFactory(domain=cafe, address=f"info@{CAFE}")
    AliasFactory(domain=other, address="sales@plain.example")
    return cafe


@pytest.mark.parametrize("query", ["café", "CAFÉ", "café.example", "xn--caf"])
@pytest.mark.parametrize("url", [
    lambda d: reverse("domains:domain-list"),
    lambda d: reverse("domains:mailbox-list"),
    lambda d: reverse("domains:alias-list"),
    lambda d: reverse("quota:list"),
])
def test_unicode_search_finds_idn_rows_on_every_list(client, world, url, query):
    page = client.get(url(world), {"q": query}).content.decode()
    table = page.split("<table", 1)[1]
    assert "café.example" in table
    assert "plain.example" not in table


def test_unicode_search_finds_alias_domains_and_alias_destinations(world):
    from domains.selectors import alias_domain_list, alias_list

    admin = SuperadminFactory()
    AliasDomainFactory(name="xn--bcher-kva.example", target=world)
    assert [d.name for d in alias_domain_list(admin, query="bücher")] == ["xn--bcher-kva.example"]
    AliasFactory(domain=world, address=f"fwd@{CAFE}", destinations=[f"anna@{CAFE}"])
    assert [a.address for a in alias_list(admin, query=f"anna@café.example")] == [f"fwd@{CAFE}"]


def test_search_terms():
    assert search_terms("café") == ["café", "xn--caf-dma"]
    assert search_terms("Bob@Café.Example") == ["Bob@Café.Example", "Bob@xn--caf-dma.Example"]
    assert search_terms("plain") == ["plain"]
    assert search_terms("  ") == []


def test_domain_drop_downs_show_unicode_and_punycode(world):
    field = DomainChoiceField(queryset=Domain.objects.filter(pk=world.pk))
    assert [label for _pk, label in field.choices][-1] == f"café.example ({CAFE})"


@pytest.mark.parametrize("value, code_hint", [
    ("foo bar.example", "U+0020"), ("a..b.example", None), ("-ab.example", None), ("ab--cd.example", None),
    ("\u0301ab.example", None), ("\u05d0a.example", None), ("ab\u200dc.example", "U+200D"), ("xn--zz.example", None),
])
def test_idna_errors_are_our_own_translated_messages(value, code_hint):
    for lang in ("en", "fr"):
        with translation.override(lang):
            with pytest.raises(ValidationError) as exc:
                normalize_domain(value)
            message = exc.value.messages[0]
        assert exc.value.code == "domain_invalid"
        for english in ("Codepoint", "at position", "Label", "Empty", "Invalid", "Joiner", "direction"):
            assert english not in message, message
        if code_hint:
            assert code_hint in message
        if lang == "fr":
            assert "n'est pas un nom de domaine valide" in message, message
