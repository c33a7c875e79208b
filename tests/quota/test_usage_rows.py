"""{% usage_row %} (quota/templatetags/quota_rows.py) gives exactly what the template code it
replaced gave, for every state a row of the quota usage table can show, in both languages."""
import datetime

import pytest
from django.contrib.humanize.templatetags import humanize
from django.db import connection
from django.template import Context, Template
from django.utils import timezone, translation

from domains.models import QuotaUsage
from tests.factories import DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db

M = 1024**2
NOW = datetime.datetime(2026, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)

# The row as template code in the quota_list.html#usage-table loop, before it was built in
# Python: the reference.
REFERENCE = Template("""{% load humanize quota_charts panel %}\
{% with mailbox=usage.mailbox %}{% row_labels "usage" as t %}<tr{% if not mailbox.active %} class="inactive"{% endif %}>
        <td>{{ mailbox.display_address }}</td>
        <td data-label="{{ t.used }}">{{ usage.bytes|filesizeformat }}</td>
        <td data-label="{{ t.messages }}">{{ usage.messages|intcomma }}</td>
        <td data-label="{{ t.quota }}">{% if mailbox.quota_bytes %}{{ mailbox.quota_bytes|filesizeformat }}{% else %}{{ t.unlimited }}{% endif %}</td>
        <td data-label="{{ t.fullness }}">{% if usage.fill_ratio is not None %}<meter class="usage" min="0" max="1" low="0.8" high="0.95" optimum="0" value="{{ usage.fill_ratio|meter_value }}">{{ usage.fill_ratio|percent }} %</meter> <span class="percent">{{ usage.fill_ratio|percent }} %</span>{% else %}<span class="muted">—</span>{% endif %}</td>
        <td data-label="{{ t.last_update }}">{% if usage.updated_at %}<time datetime="{{ usage.updated_at|date:'c' }}">{{ usage.updated_at|naturaltime }}</time>{% else %}<span class="muted">{{ t.no_mail_yet }}</span>{% endif %}</td>
      </tr>{% endwith %}""")
BUILT = Template("{% load quota_rows %}{% usage_row usage %}")


class _FrozenDatetime(datetime.datetime):
    """naturaltime's clock, stopped at NOW: both renders say the same "… ago"."""

    @classmethod
    def now(cls, tz=None):
        return NOW if tz is not None else NOW.replace(tzinfo=None)


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(humanize, "datetime", _FrozenDatetime)


def use(mailbox, used_bytes, messages):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE quota_usage SET bytes = %s, messages = %s WHERE username = %s",
                       [used_bytes, messages, mailbox.address])


@pytest.fixture
def usages():
    """One usage row per state: (un)limited quota, empty/half/over-full, active or not,
    never written by Dovecot, large counts (grouped digits), an IDN domain."""
    domain = DomainFactory(name="xn--exmple-cua.org")  # exämple.org: shown in Unicode
    boxes = [
        MailboxFactory(domain=domain, local_part="never", quota_bytes=100 * M),
        MailboxFactory(domain=domain, local_part="unlimited", quota_bytes=0),
        MailboxFactory(domain=domain, local_part="half", quota_bytes=100 * M),
        MailboxFactory(domain=domain, local_part="over", quota_bytes=10 * M, active=False),
        MailboxFactory(domain=domain, local_part="big", quota_bytes=5 * 1024**3),
        MailboxFactory(domain=domain, local_part="off-unlimited", quota_bytes=0, active=False),
    ]
    use(boxes[1], 1234 * M, 1_234_567)
    use(boxes[2], 50 * M, 10)
    use(boxes[3], 12 * M, 3)
    use(boxes[4], 4 * 1024**3 + 17, 98_765)
    use(boxes[5], 0, 0)
    rows = list(QuotaUsage.objects.select_related("mailbox", "mailbox__domain").order_by("mailbox_id"))
    # Dovecot's trigger stamps updated_at with now(); give each written row its own age
    # (seconds, minutes, hours, days, weeks, and one from the future: a clock skew).
    ages = {"big@xn--exmple-cua.org": datetime.timedelta(seconds=9),
            "half@xn--exmple-cua.org": datetime.timedelta(minutes=2, seconds=30),
            "off-unlimited@xn--exmple-cua.org": datetime.timedelta(hours=-3),
            "over@xn--exmple-cua.org": datetime.timedelta(days=3, hours=5),
            "unlimited@xn--exmple-cua.org": datetime.timedelta(weeks=7, hours=23, minutes=59)}
    for usage in rows:
        if usage.mailbox_id in ages:
            usage.updated_at = NOW - ages[usage.mailbox_id]
        else:
            assert usage.updated_at is None
    return rows


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_built_row_is_the_template_s_row(frozen_clock, usages, language, zone):
    with translation.override(language), timezone.override(zone):
        for usage in usages:
            context = {"usage": usage}
            built = BUILT.render(Context(context))
            assert built == REFERENCE.render(Context(context)), usage.mailbox_id
    shown = "".join(BUILT.render(Context({"usage": u})) for u in usages)
    for state in ('<tr class="inactive">', "<tr>", "<meter", '<span class="muted">—', "<time datetime="):
        assert state in shown  # every state was compared


def test_the_page_shows_the_built_rows(client, usages, frozen_clock):
    client.force_login(SuperadminFactory())
    for language, unlimited, never in (("en", "unlimited", "no mail yet"), ("fr", "illimité", "pas encore de courrier")):
        html = client.get("/quota/?sort=address", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        with translation.override(language):
            for usage in usages:
                assert BUILT.render(Context({"usage": usage})).split("<time")[0] in html
        assert f">{unlimited}<" in html and f">{never}<" in html, language
