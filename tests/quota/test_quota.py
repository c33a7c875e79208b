import csv
import io
import json

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from domains import services
from domains.models import QuotaUsage
from quota.models import QuotaNotice
from quota.selectors import UsageQuery, domain_summaries, fullness_histogram, top_fullest, usage_for
from quota.services import quota_notify
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

M = 1024**2


def use(mailbox, used_bytes, messages=1):
    """What Dovecot's quota dict does: update the row the panel created."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE quota_usage SET bytes = %s, messages = %s WHERE username = %s",
                       [used_bytes, messages, mailbox.address])


@pytest.fixture
def data():
    a = services.domain_create(name="a.example", acting_user=None)
    b = services.domain_create(name="b.example", acting_user=None)
    mk = lambda d, name, quota: services.mailbox_create(domain=d, local_part=name, password="pw", quota_bytes=quota,
                                                         acting_user=None)
    boxes = {
        "full": mk(a, "full", 100 * M), "high": mk(a, "high", 100 * M), "half": mk(a, "half", 100 * M),
        "never": mk(a, "never", 100 * M), "unlimited": mk(a, "unlimited", 0), "other": mk(b, "other", 100 * M),
    }
    use(boxes["full"], 120 * M, 50)
    use(boxes["high"], 96 * M, 40)
    use(boxes["half"], 50 * M, 10)
    use(boxes["unlimited"], 500 * M, 99)
    use(boxes["other"], 99 * M, 5)
    return {"a": a, "b": b, **boxes}


def addresses(rows):
    return [u.mailbox_id for u in rows]


def test_triggers_keep_fill_ratio_and_freshness(data):
    usage = QuotaUsage.objects.get(mailbox=data["half"])
    assert usage.fill_ratio == pytest.approx(0.5) and usage.updated_at is not None
    never = QuotaUsage.objects.get(mailbox=data["never"])
    assert never.fill_ratio == 0 and never.updated_at is None
    assert QuotaUsage.objects.get(mailbox=data["unlimited"]).fill_ratio is None
    services.mailbox_update(mailbox=data["half"], quota_bytes=200 * M, acting_user=None)
    assert QuotaUsage.objects.get(mailbox=data["half"]).fill_ratio == pytest.approx(0.25)


def test_filters_sorts_and_search(data, superadmin):
    rows = usage_for(superadmin)
    assert addresses(rows)[:3] == ["full@a.example", "other@b.example", "high@a.example"]
    assert addresses(rows)[-1] == "unlimited@a.example"  # unlimited (no ratio) last
    assert addresses(usage_for(superadmin, UsageQuery(filter="95"))) == ["full@a.example", "other@b.example",
                                                                         "high@a.example"]
    assert addresses(usage_for(superadmin, UsageQuery(filter="100"))) == ["full@a.example"]
    assert addresses(usage_for(superadmin, UsageQuery(filter="unlimited"))) == ["unlimited@a.example"]
    assert addresses(usage_for(superadmin, UsageQuery(filter="never"))) == ["never@a.example"]
    assert addresses(usage_for(superadmin, UsageQuery(search="HAL"))) == ["half@a.example"]
    assert addresses(usage_for(superadmin, UsageQuery(domain=data["b"]))) == ["other@b.example"]
    assert addresses(usage_for(superadmin, UsageQuery(sort="address")))[0] == "full@a.example"
    assert addresses(usage_for(superadmin, UsageQuery(sort="used")))[0] == "unlimited@a.example"


def test_domain_admin_sees_only_their_domain(data):
    admin = AdminFactory(domains=[data["b"]])
    assert addresses(usage_for(admin)) == ["other@b.example"]
    assert addresses(usage_for(admin, UsageQuery(domain=data["a"]))) == []
    assert [d.name for d in domain_summaries(admin)] == ["b.example"]
    assert sum(fullness_histogram(admin).values()) == 1
    assert addresses(top_fullest(admin)) == ["other@b.example"]


def test_summaries_and_histogram(data, superadmin):
    [summary] = domain_summaries(superadmin, data["a"])
    assert summary.mailbox_count == 5 and summary.allocated == 400 * M
    assert summary.used == (120 + 96 + 50 + 500) * M and summary.unlimited_count == 1
    empty = services.domain_create(name="empty.example", acting_user=None)
    [nothing] = domain_summaries(superadmin, empty)
    assert (nothing.mailbox_count, nothing.allocated, nothing.used, nothing.message_count) == (0, 0, 0, 0)
    counts = fullness_histogram(superadmin)
    assert counts["over"] == 1 and counts["b9"] == 2 and counts["b5"] == 1 and counts["b0"] == 1
    assert counts["unlimited"] == 1


def test_page_csv_and_partial_for_roles(client, data, superadmin):
    admin = AdminFactory(domains=[data["b"]])
    client.force_login(admin)
    page = client.get("/quota/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "other@b.example" in body and "full@a.example" not in body
    # Asking for another domain's filter shows nothing of it (the choice is not valid for them).
    body = client.get(f"/quota/?domain={data['a'].pk}").content.decode()
    assert "full@a.example" not in body
    partial = client.get("/quota/?q=oth", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content and b"other@b.example" in partial.content
    exported = client.get("/quota/export.csv")
    assert exported["Content-Type"].startswith("text/csv") and exported.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [r["address"] for r in rows] == ["other@b.example"] and rows[0]["percent"] == "99.0"
    client.force_login(superadmin)
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/quota/export.csv?filter=95").streaming_content).decode())))
    assert [r["address"] for r in rows] == ["full@a.example", "other@b.example", "high@a.example"]
    page = client.get(f"/quota/?domain={data['a'].pk}")
    assert b"Domain summary" in page.content and b"<svg" in page.content


def test_anonymous_and_mail_user_session_are_sent_to_login(client, data):
    assert client.get("/quota/").status_code == 302
    session = client.session
    session["mailbox_id"] = data["half"].pk
    session.save()
    for url in ("/quota/", "/quota/export.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_page_query_count_is_bounded(client, data, superadmin, django_assert_max_num_queries):
    client.force_login(superadmin)
    with django_assert_max_num_queries(8):
        assert client.get("/quota/").status_code == 200


def test_report_formats(data):
    out = io.StringIO()
    call_command("quota", "report", "--format", "json", "--over", "95", stdout=out)
    records = json.loads(out.getvalue())
    assert [r["address"] for r in records] == ["full@a.example", "other@b.example", "high@a.example"]
    assert records[0]["percent"] == 120.0
    out = io.StringIO()
    call_command("quota", "report", "--format", "csv", "--domain", "b.example", stdout=out)
    assert out.getvalue().splitlines()[1].startswith("other@b.example,b.example,")
    out = io.StringIO()
    call_command("quota", "report", stdout=out)
    assert "never@a.example" in out.getvalue() and "never" in out.getvalue().splitlines()[-2:][0] + out.getvalue()


def test_notify_once_per_crossing(data):
    result = quota_notify(threshold=95)
    assert sorted(result.warned) == ["full@a.example", "high@a.example", "other@b.example"]
    assert sorted(result.summaries) == ["postmaster@a.example", "postmaster@b.example"]
    assert len(mail.outbox) == 5
    assert mail.outbox[0].to == ["full@a.example"] and "120%" in mail.outbox[0].subject
    mail.outbox.clear()
    assert quota_notify(threshold=95).warned == []   # nothing new
    assert mail.outbox == []
    use(data["high"], 10 * M)                           # dropped below: re-armed
    assert quota_notify(threshold=95).rearmed == 1
    use(data["high"], 99 * M)                           # crossed again: warned again
    assert quota_notify(threshold=95).warned == ["high@a.example"]
    assert QuotaNotice.objects.filter(threshold=95).count() == 3


def test_notify_dry_run_and_cli(data):
    result = quota_notify(threshold=95, dry_run=True)
    assert len(result.warned) == 3 and mail.outbox == [] and not QuotaNotice.objects.exists()
    err = io.StringIO()
    call_command("quota", "report", "--over", "95", "--notify", stdout=io.StringIO(), stderr=err)
    assert "warned 3 mailboxes, 2 postmasters" in err.getvalue() and len(mail.outbox) == 5


def test_dashboard_nearly_full_is_the_over_90_filter(client, data, superadmin):
    from domains.selectors import dashboard_totals

    client.force_login(superadmin)
    assert 'href="/quota/?filter=90"' in client.get("/").content.decode()
    over_90 = addresses(usage_for(superadmin, UsageQuery(filter="90")))
    assert over_90 == ["full@a.example", "other@b.example", "high@a.example"]
    assert dashboard_totals(superadmin)["near_full"] == len(over_90)


def test_search_finds_a_mailbox_by_display_name(data, superadmin):
    services.mailbox_update(mailbox=data["half"], name="Halvard Berg", acting_user=None)
    assert addresses(usage_for(superadmin, UsageQuery(search="berg"))) == ["half@a.example"]
