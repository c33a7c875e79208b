"""The quota CSV, written by PostgreSQL's COPY: scope per role, filters, formula-safe cells,
Unicode and punycode columns, the same bytes from the panel and the CLI."""
import csv
import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.sql import Query

from domains import services
from domains.models import QuotaUsage
from quota.export import HEADER, CsvSafe
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

M = 1024**2


def use(mailbox, used_bytes, messages=1):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE quota_usage SET bytes = %s, messages = %s WHERE username = %s",
                       [used_bytes, messages, mailbox.address])


def exported(client, url="/quota/export.csv") -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def data():
    a = services.domain_create(name="a.example", acting_user=None)
    idn = services.domain_create(name="café.example", acting_user=None)
    mk = lambda d, name, quota, **kw: services.mailbox_create(domain=d, local_part=name, password="pw",
                                                               quota_bytes=quota, acting_user=None, **kw)
    boxes = {"full": mk(a, "full", 100 * M), "half": mk(a, "half", 100 * M), "never": mk(a, "never", 0),
             "jose": mk(idn, "jose", 10 * M)}
    use(boxes["full"], 120 * M, 50)
    use(boxes["half"], 50 * M, 10)
    use(boxes["jose"], 9 * M, 3)
    return {"a": a, "idn": idn, **boxes}


def test_columns_values_and_both_forms_of_idn_names(client, data, superadmin):
    client.force_login(superadmin)
    response = client.get("/quota/export.csv")
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == ",".join(HEADER)
    rows = {r["address_ascii"]: r for r in csv.DictReader(io.StringIO(body))}
    full = rows["full@a.example"]
    assert full["address"] == "full@a.example" and full["domain"] == "a.example" and full["active"] == "1"
    assert (full["quota_bytes"], full["used_bytes"], full["messages"], full["percent"]) == (
        str(100 * M), str(120 * M), "50", "120.0")
    assert full["last_update"].endswith("Z") and "T" in full["last_update"]
    never = rows["never@a.example"]
    assert (never["percent"], never["last_update"], never["quota_bytes"]) == ("", "", "0")
    jose = rows["jose@xn--caf-dma.example"]
    assert (jose["address"], jose["domain"], jose["domain_ascii"]) == (
        "jose@café.example", "café.example", "xn--caf-dma.example")
    # Fullest first, as on the page.
    assert list(rows)[:2] == ["full@a.example", "jose@xn--caf-dma.example"]


def test_scope_per_role(client, data, superadmin):
    admin = AdminFactory(domains=[data["idn"]])
    client.force_login(admin)
    assert [r["address_ascii"] for r in exported(client)] == ["jose@xn--caf-dma.example"]
    # Another domain's id as a filter is not among theirs: the export shows none of its rows.
    assert "full@a.example" not in [r["address_ascii"] for r in exported(client, f"/quota/export.csv?domain={data['a'].pk}")]
    client.force_login(superadmin)
    assert len(exported(client)) == 4
    client.logout()
    assert client.get("/quota/export.csv").status_code == 302


def test_filters_search_and_sort(client, data, superadmin):
    client.force_login(superadmin)
    assert [r["address_ascii"] for r in exported(client, "/quota/export.csv?filter=95")] == ["full@a.example"]
    assert [r["address_ascii"] for r in exported(client, "/quota/export.csv?filter=unlimited")] == ["never@a.example"]
    assert [r["address_ascii"] for r in exported(client, f"/quota/export.csv?domain={data['a'].pk}&sort=address")] == [
        "full@a.example", "half@a.example", "never@a.example"]
    assert [r["address_ascii"] for r in exported(client, "/quota/export.csv?q=hal")] == ["half@a.example"]


HOSTILE = ["=1+2", "+1+2", "-1+2", "@SUM(1)", "\t=1+2", "\r=1+2"]


def evaluate(expression):
    """The value of a SQL expression, computed by PostgreSQL."""
    query = Query(None)
    sql, params = expression.resolve_expression(query).as_sql(query.get_compiler(connection=connection), connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return cursor.fetchone()[0]


@pytest.mark.parametrize("cell", HOSTILE)
def test_every_formula_prefix_is_neutralised_in_sql(cell):
    assert evaluate(CsvSafe(Value(cell))) == "'" + cell


@pytest.mark.parametrize("cell", ["a=1", "1-2", "user+tag@x", "", "'quoted", " =1"])
def test_other_cells_are_left_alone(cell):
    assert evaluate(CsvSafe(Value(cell))) == cell


def test_hostile_name_in_each_text_column_is_neutralised(client, data, superadmin):
    """A domain admin controls local parts and display names; the database refuses domain
    names that begin with a formula character and names with a tab or CR (CsvSafe, tested
    above, would neutralise them anyway)."""
    a = data["a"]
    # Local parts are limited to [a-z0-9._-] (none can start with a formula character), so the
    # hostile text goes into the display names.
    hostile = {"n1": "=cmd|'/c calc'!a1", "n2": "+1+2", "n3": "-2+3", "plain": "@SUM(1+1)"}
    for local_part, name in hostile.items():
        services.mailbox_create(domain=a, local_part=local_part, name=name, password="pw", quota_bytes=M,
                                acting_user=None)
    client.force_login(superadmin)
    rows = {r["address_ascii"].lstrip("'"): r for r in exported(client)}
    for local_part, name in hostile.items():
        row = rows[f"{local_part}@a.example"]
        assert row["name"] == "'" + name
        if local_part[0] in "=+-":
            assert row["address"] == f"'{local_part}@a.example" and row["address_ascii"] == row["address"]
    assert rows["plain@a.example"]["address"] == "plain@a.example"
    for table, column, bad in [("domain", "name", "=evil.example"), ("domain", "name", "-evil.example"),
                               ("domain", "name", "@evil.example"), ("mailbox", "name", "\t=1+2"),
                               ("mailbox", "name", "\r=1+2")]:
        with pytest.raises(IntegrityError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s",
                               [bad, a.pk if table == "domain" else data["full"].pk])


def test_cli_csv_is_the_same_export(client, data, superadmin):
    out = io.StringIO()
    call_command("quota", "report", "--format", "csv", "--over", "95", stdout=out)
    client.force_login(superadmin)
    web = b"".join(client.get("/quota/export.csv?filter=95").streaming_content).decode()
    assert out.getvalue() == web
    assert out.getvalue().splitlines()[1].startswith("full@a.example,a.example,1,")


def add_bulk_mailboxes(domain, count: int = 20000) -> None:
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO mailbox (domain_id, local_part, address, name, password, quota_bytes, maildir, active,
                                 password_changed, created, modified)
            SELECT %s, 'bulk' || n, 'bulk' || n || '@' || %s, 'Bulk ' || n, 'x', 1024, 'a/bulk' || n || '/',
                   true, now(), now(), now() FROM generate_series(1, %s) n""", [domain.pk, domain.name, count])
        cursor.execute("INSERT INTO quota_usage (username, bytes, messages) "
                       "SELECT address, 10, 1 FROM mailbox WHERE local_part LIKE 'bulk%%'")


def test_large_export_comes_in_large_chunks(client, data, superadmin):
    add_bulk_mailboxes(data["a"])
    client.force_login(superadmin)
    chunks = list(client.get("/quota/export.csv").streaming_content)
    assert sum(c.count(b"\n") for c in chunks) == 1 + 20004
    # Not one write per row: about 256 KiB at a time.
    assert len(chunks) < 10 and all(len(c) >= 200_000 for c in chunks[:-1])


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no test transaction to abort
def test_an_abandoned_download_leaves_the_connection_usable(client, data, superadmin):
    add_bulk_mailboxes(data["a"])
    client.force_login(superadmin)
    response = client.get("/quota/export.csv")
    assert len(next(iter(response.streaming_content))) > 0
    response.close()  # what the server does when the browser goes away mid-download
    assert QuotaUsage.objects.count() == 20004


def test_download_headers_and_csv_quoting(client, data, superadmin):
    services.mailbox_create(domain=data["a"], local_part="bob", name='Bob, "the" Builder; =x', password="pw",
                            quota_bytes=M, acting_user=None)
    client.force_login(superadmin)
    response = client.get("/quota/export.csv")
    assert response["Content-Disposition"].startswith('attachment; filename="quota-')
    assert {"no-store", "private"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert response["X-Content-Type-Options"] == "nosniff"
    rows = {r["address_ascii"]: r for r in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))}
    assert rows["bob@a.example"]["name"] == 'Bob, "the" Builder; =x'


def test_htmx_filtering_carries_the_filters_to_the_export_link(client, data, superadmin):
    """The page filters through htmx (search as you type, the selects) and swaps the table only:
    the Export CSV link in the page header must follow, or it exports another selection."""
    client.force_login(superadmin)
    assert 'href="/quota/export.csv"' in client.get("/quota/").content.decode()
    partial = client.get("/quota/?q=hal&filter=all", headers={"HX-Request": "true"}).content.decode()
    link = partial[partial.index('<a id="quota-export"'):]
    assert 'hx-swap-oob="true"' in link.split(">")[0] and 'href="/quota/export.csv?q=hal&amp;filter=all"' in link
    # The whole page carries no out-of-band marker.
    assert "hx-swap-oob" not in client.get("/quota/?q=hal").content.decode()


@pytest.mark.parametrize("junk", ["domain=nowhere.example", "domain=999999", "q=" + "x" * 400, "sort=sideways"])
def test_an_invalid_filter_drops_only_itself(client, data, superadmin, junk):
    """One bad value (a domain not among the admin's, an over-long search) reset every filter:
    the export then held every mailbox of the scope, whatever threshold was asked for."""
    client.force_login(superadmin)
    assert [r["address_ascii"] for r in exported(client, f"/quota/export.csv?filter=95&{junk}")] == ["full@a.example"]
    page = client.get(f"/quota/?filter=95&{junk}").content.decode()
    assert "full@a.example" in page and "half@a.example" not in page


def test_htmx_filtering_carries_the_domain_summary(client, data, superadmin):
    """Choosing a domain in the filters swaps the table through htmx: the domain's summary,
    above the table, follows out of band; choosing "All domains" again clears it."""
    client.force_login(superadmin)
    hx = {"HX-Request": "true", "HX-Target": "usage-table"}
    partial = client.get(f"/quota/?domain={data['a'].pk}", headers=hx).content.decode()
    summary = partial[partial.index('<div id="quota-summary"'):]
    assert 'hx-swap-oob="true"' in summary.split(">")[0] and "Domain summary" in summary
    assert "<html" not in partial
    cleared = client.get("/quota/?domain=", headers=hx).content.decode()
    summary = cleared[cleared.index('<div id="quota-summary"'):]
    assert 'hx-swap-oob="true"' in summary.split(">")[0] and "Domain summary" not in summary
    # The whole page has the summary in place, with no out-of-band marker.
    page = client.get(f"/quota/?domain={data['a'].pk}").content.decode()
    assert '<div id="quota-summary">' in page and "Domain summary" in page


def test_an_over_long_search_says_so(client, data, superadmin):
    client.force_login(superadmin)
    page = client.get("/quota/?q=" + "x" * 400, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'class="alert error"' in page and "320" in page
