"""The cached usage overview behind the dashboard's and the quota page's charts."""
import pickle

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domains import services
from quota.selectors import usage_overview
from tests.factories import AdminFactory
from tests.quota.test_quota import M, data, use  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def test_overview_figures_and_scope(data, superadmin):
    overview = usage_overview(superadmin)
    assert [row["address"] for row in overview["top"]][:2] == ["full@a.example", "other@b.example"]
    assert overview["histogram"]["over"] == 1
    # A domain admin's overview is their own, although a superadmin's is already cached.
    admin = AdminFactory(domains=[data["b"]])
    assert [row["address"] for row in usage_overview(admin)["top"]] == ["other@b.example"]
    assert usage_overview(superadmin, data["a"])["summary"] == {
        "mailbox_count": 5, "allocated": 400 * M, "unlimited_count": 1, "used": (120 + 96 + 50 + 500) * M,
        "message_count": 50 + 40 + 10 + 99}


def test_overview_caches_display_values_only(data, superadmin):
    usage_overview(superadmin, data["a"])
    [key] = [k for k in cache._cache if "usage:all:" in k]  # the per-process cache of the test settings
    stored = pickle.dumps(cache.get(key.split(":", 2)[2]))
    assert b"$argon2" not in stored and b"ARGON2" not in stored and b"password" not in stored


def test_overview_is_recomputed_after_expiry_not_before(data, superadmin):
    usage_overview(superadmin)
    use(data["half"], 99 * M)
    assert usage_overview(superadmin)["histogram"]["b9"] == 2  # still the cached figures
    cache.clear()
    assert usage_overview(superadmin)["histogram"]["b9"] == 3


def test_dashboard_reads_its_figures_from_the_cache(client, data, superadmin):
    client.force_login(superadmin)
    first = client.get("/")
    assert first.status_code == 200 and "full@a.example" in first.content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/")
    assert again.content.count(b"full@a.example") == 1
    # Session, user, TOTP check, "has domains", and one read each for the totals and the usage overview.
    usage_reads = [q["sql"] for q in queries.captured_queries if "quota_usage" in q["sql"]]
    assert usage_reads == [], usage_reads
    assert len(queries.captured_queries) <= 6, [q["sql"][:80] for q in queries.captured_queries]


def test_quota_page_of_a_domain_reads_its_charts_once(client, data, superadmin):
    client.force_login(superadmin)
    services.domain_create(name="c.example", acting_user=None)
    client.get(f"/quota/?domain={data['a'].pk}")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/quota/?domain={data['a'].pk}")
    body = page.content.decode()
    assert "full@a.example" in body and "other@b.example" not in body
    # The aggregates over the domain's usage and mailbox rows come from the cache;
    # only the page of rows is read.
    aggregates = [q["sql"] for q in queries.captured_queries if "SUM(" in q["sql"] or "COUNT(" in q["sql"]]
    assert aggregates == []
    assert "Totals refresh every 30 seconds." in body


def test_cached_figures_are_not_shown_after_a_domain_is_taken_away(data):
    from domains.selectors import dashboard_totals

    admin = AdminFactory(domains=[data["a"], data["b"]])
    assert "full@a.example" in [row["address"] for row in usage_overview(admin)["top"]]
    assert dashboard_totals(admin)["mailboxes"] == 6
    admin.domains.remove(data["a"])
    assert [row["address"] for row in usage_overview(admin)["top"]] == ["other@b.example"]
    assert dashboard_totals(admin)["mailboxes"] == 1
