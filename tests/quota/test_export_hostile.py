"""The quota CSV against a hostile caller: parameters reach COPY bound, a download cut short
leaves the connection usable, filters in the query string stay in the admin's scope."""
import csv
import io
from urllib.parse import quote

import pytest
from django.db import connection

from domains import services
from quota.export import csv_chunks
from quota.selectors import usage_for
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

M = 1024**2


@pytest.fixture
def boxes():
    a = services.domain_create(name="a.example", acting_user=None)
    b = services.domain_create(name="b.example", acting_user=None)
    for i in range(40):
        services.mailbox_create(domain=a, local_part=f"user{i}", name="x" * 200, password="pw",
                                quota_bytes=M, acting_user=None)
    services.mailbox_create(domain=b, local_part="secret", password="pw", quota_bytes=M, acting_user=None)
    return a, b


def body(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("term", ["x') TO PROGRAM 'id' --", "%s", "%(x)s", "$1", "\\'", "'; SELECT 1; --",
                                  "user1%", "_"])
def test_search_terms_reach_copy_as_bound_values(client, boxes, superadmin, term):
    client.force_login(superadmin)
    rows = body(client, "/quota/export.csv?q=" + quote(term))
    # Every row really matches the literal term (LIKE wildcards included as text).
    assert all(term.lower() in (r["address_ascii"] + r["name"]).lower() for r in rows)


def test_domain_admin_cannot_reach_other_domains_through_the_query_string(client, boxes):
    a, b = boxes
    client.force_login(AdminFactory(domains=[a]))
    for query in [f"domain={b.pk}", f"domain={b.pk}&domain={a.pk}", "domain=0", "domain=-1 OR 1=1",
                  "sort=address;DROP TABLE mailbox", "sort=-address", "q=secret", "page_size=100000000"]:
        response = client.get("/quota/export.csv?" + query)
        assert response.status_code in (200, 400, 404), query
        if response.status_code == 200:
            rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
            assert {r["domain_ascii"] for r in rows} <= {"a.example"}, query
            assert len(rows) == (0 if query == "q=secret" else 40), query


def test_download_cut_short_leaves_the_connection_usable(boxes):
    chunks = csv_chunks(usage_for(None, all_domains=True), chunk_bytes=1000)
    assert next(chunks)
    chunks.close()  # what Django does when the client goes away mid-download
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM mailbox")
        assert cursor.fetchone()[0] == 41


@pytest.mark.parametrize("query", [
    "domain=b.example", "domain=B.EXAMPLE.", "domain=bé.example", "q=secret", "q=%25", "q=_", "q=%5C",
    "q=" + "x" * 5000, "q=%27%22", "q=s%C3%A9cret", "domain=b.example&filter=all&q=" + "y" * 400,
])
def test_domain_admin_stays_in_scope_whatever_the_filters(client, boxes, query):
    a, b = boxes
    client.force_login(AdminFactory(domains=[a]))
    assert {r["domain_ascii"] for r in body(client, "/quota/export.csv?" + query)} <= {"a.example"}, query


def test_no_export_for_anonymous_clients_mail_users_or_nul_bytes(client, boxes, superadmin):
    assert client.get("/quota/export.csv").status_code == 302
    session = client.session
    session["mailbox_id"] = boxes[1].mailboxes.get().pk  # a mail user's login (/me/)
    session.save()
    assert client.get("/quota/export.csv").status_code == 302
    client.force_login(superadmin)
    assert client.get("/quota/export.csv?q=a%00b").status_code == 400
