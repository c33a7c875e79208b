"""Quota usage as CSV, written by PostgreSQL itself: `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`.

The SELECT is the quota page's own queryset (`usage_for`: the same role scope, domain,
threshold and search filters, the same sort), with every cell formatted in SQL, so that
Python never touches a row: the web view and `manage.py quota report --format csv` only
pass PostgreSQL's output on, in large chunks.

Columns: address (Unicode), domain (Unicode), active (1/0), quota_bytes (0 = unlimited),
used_bytes, messages, percent (of the quota, one decimal, empty when unlimited),
last_update (UTC, ISO 8601, empty when Dovecot never wrote), name, address_ascii and
domain_ascii (the punycode forms Postfix and Dovecot see).

Formula injection: a spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and, in
some, tab or carriage return) as a formula. Every text cell that begins so gets a leading
apostrophe, as OWASP's "CSV Injection" guidance recommends; numbers are ours and never do.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

from django.db import connection
from django.db.models import CharField, F, Func, IntegerField, JSONField, QuerySet, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat

from domains.addresses import domain_display
from domains.models import Domain, QuotaUsage

HEADER = ("address", "domain", "active", "quota_bytes", "used_bytes", "messages", "percent", "last_update",
          "name", "address_ascii", "domain_ascii")
CHUNK_BYTES = 256 * 1024  # what one write to the client carries; PostgreSQL sends one message per row


class CsvSafe(Func):
    """SQL: the text with an apostrophe put before a leading =, +, -, @, tab or CR (one pass,
    the column named once)."""

    template = r"regexp_replace(%(expressions)s, '^([-=+@\t\r])', '''\1')"
    output_field = TextField()


class _UnicodeName(Func):
    """SQL: the Unicode form of a punycode domain name, looked up in a JSON object of the
    few IDN names in scope (decoded in Python by `domain_display`; PostgreSQL has no IDNA)."""

    template = "COALESCE(%(expressions)s)"
    arg_joiner = ", "
    output_field = TextField()

    def __init__(self, name, names: dict[str, str]):
        lookup = Func(Cast(Value(json.dumps(names)), JSONField()), name, arg_joiner=" ->> ",
                      template="(%(expressions)s)", output_field=TextField())
        super().__init__(lookup, name)


def _idn_names() -> dict[str, str]:
    """{punycode name: Unicode name} for the internationalised domains (few; a name only
    shows in the export through a row the query already scoped)."""
    names = Domain.objects.filter(name__contains="xn--").values_list("name", flat=True)
    return {name: domain_display(name) for name in names}


def export_select(rows: QuerySet[QuotaUsage]) -> tuple[str, tuple]:
    """(sql, params): the SELECT behind the CSV of these usage rows (already scoped, filtered
    and sorted), its columns in HEADER's order."""
    domain_name = F("mailbox__domain__name")
    unicode_domain = _UnicodeName(domain_name, _idn_names())
    rows = rows.values_list(
        CsvSafe(Concat(F("mailbox__local_part"), Value("@"), unicode_domain, output_field=TextField())),
        CsvSafe(unicode_domain),
        Cast(F("mailbox__active"), IntegerField()),
        F("mailbox__quota_bytes"),
        F("bytes"),
        F("messages"),
        Func(F("fill_ratio"), template="round((%(expressions)s * 100)::numeric, 1)", output_field=CharField()),
        Func(F("updated_at"), template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
                                       "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", output_field=CharField()),
        CsvSafe(F("mailbox__name")),
        CsvSafe(F("mailbox__address")),
        CsvSafe(domain_name),
    )
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params)


def copy_statement(select_sql: str) -> str:
    # The SELECT itself, not a wrapping subquery: its ORDER BY then holds for the output.
    return f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv)"


def csv_chunks(rows: QuerySet[QuotaUsage], chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """These usage rows as CSV (UTF-8, header first, LF line ends), in chunks of about
    `chunk_bytes` bytes, as PostgreSQL's COPY writes it. Pass `quota.selectors.usage_for(...)`:
    the scope and filters are the queryset's."""
    sql, params = export_select(rows)
    buffer = bytearray((",".join(HEADER) + "\n").encode())
    with connection.cursor() as cursor:
        # The psycopg cursor under Django's wrapper: COPY binds its parameters client-side.
        with cursor.cursor.copy(copy_statement(sql), params) as copy:
            for data in copy:
                buffer += data
                if len(buffer) >= chunk_bytes:
                    yield bytes(buffer)
                    buffer.clear()
    if buffer:
        yield bytes(buffer)
