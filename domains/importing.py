"""CSV import and export of mailboxes and aliases, for the web page and `manage.py mailbox import`.

The format (the export writes the same, so a file round-trips), one row per address:

    type,address,name,quota,password,destinations,active
    mailbox,anna@example.org,Anna,2G,,,yes
    alias,team@example.org,,,,anna@example.org bob@example.org,yes

- type: `mailbox` or `alias`.
- quota (mailbox): a size with a unit (500M, 2G; 0 = unlimited); empty for the domain's default.
- password (mailbox): empty to have one generated; generated passwords are returned once.
- destinations (alias): addresses separated by spaces, commas or semicolons.
- active: yes/no, 1/0, true/false; empty means yes.

Every row gets the rules of the forms' services (domains/services.py: limits, address
rules, routing checks) through their batch form, services.addresses_create, inside one
transaction; every row gets its verdict. A dry run, or any refused row, rolls everything
back: the file is imported whole or not at all.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .addresses import address_display, normalize_domain, split_address
from .models import Domain
from .passwords import generate_password
from .units import format_size, parse_size

COLUMNS = ("type", "address", "name", "quota", "password", "destinations", "active")
MAX_ROWS = 50_000  # one file, one transaction: larger imports go in several files
_SEPARATORS = re.compile(r"[\s,;]+")
# Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell beginning with =, +, -,
# @, tab or CR. The export puts an apostrophe before such a cell (as quota/export.py does in
# SQL); the import takes it off again, so the file still round-trips.
_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
_TRUE, _FALSE = {"", "yes", "y", "1", "true", "oui"}, {"no", "n", "0", "false", "non"}


# The row types as the dry-run table shows them, in the reader's language.
KIND_LABELS = {"mailbox": gettext_lazy("mailbox"), "alias": gettext_lazy("alias")}


@dataclass
class RowResult:
    line: int  # in the file, counting the header as line 1
    kind: str
    address: str
    ok: bool = False
    error: str = ""
    generated_password: str = field(default="", repr=False)  # never logged

    @property
    def kind_label(self) -> str:
        """The row type in the reader's language (what the file said, when it is no type)."""
        return str(KIND_LABELS.get(self.kind, self.kind))


@dataclass
class ImportResult:
    rows: list[RowResult]
    committed: bool

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if not r.ok]

    @property
    def generated(self) -> list[RowResult]:
        return [r for r in self.rows if r.generated_password]


def read_rows(text: str) -> list[dict[str, str]]:
    """The rows of a CSV text as dicts keyed by COLUMNS. Raises ValidationError when the
    header lacks `type` or `address`, or the file has more than MAX_ROWS rows."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if "type" not in header or "address" not in header:
        raise ValidationError(_("The first line must name the columns: %(columns)s.")
                              % {"columns": ",".join(COLUMNS)}, code="import_header")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise ValidationError(_("At most %(max)d rows per file.") % {"max": MAX_ROWS}, code="import_too_many")
        cells = {key: (row.get(key) or "").strip() for key in COLUMNS}
        # A password is taken as written; every other cell may carry the export's apostrophe.
        rows.append({key: value if key == "password" else _unprotect(value) for key, value in cells.items()})
    return rows


def csv_safe(value: str) -> str:
    """`value` with an apostrophe before a leading =, +, -, @, tab or CR (a spreadsheet formula)."""
    return "'" + value if value.startswith(_FORMULA_CHARS) else value


def _unprotect(value: str) -> str:
    """Undo csv_safe: the apostrophe the export put before a formula character."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_CHARS) else value


def _active(value: str) -> bool:
    value = value.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": value}, code="import_active")


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# What a dry run stores instead of an argon2 hash: never committed (the dry run rolls back),
# and not a hash any password verifies against.
DRY_RUN_HASH = "{ARGON2ID}dry-run"


def _split(address: str) -> tuple[str, str]:
    if address.startswith("@"):  # a catch-all, as the export writes it
        return "", normalize_domain(address[1:])
    return split_address(address)


def _item(row: dict[str, str], domains: dict[str, Domain], dry_run: bool) -> tuple[services.NewMailbox | services.NewAlias, str]:
    """One row as the item addresses_create takes, and the password generated for it ("" if
    none). Raises ValidationError for what the row itself gets wrong (type, domain, active,
    quota, password policy); the rules of the mailbox or alias are the services'."""
    kind = row["type"].lower()
    local_part, domain_name = _split(row["address"])
    domain = domains.get(domain_name)
    if domain is None:
        # SECURITY: the same answer for a domain that does not exist and one outside the scope.
        raise ValidationError(_("%(domain)s is not one of your domains.") % {"domain": domain_name},
                              code="import_domain")
    active = _active(row["active"])
    if kind == "mailbox":
        if row["password"]:
            validate_password(row["password"])  # the same policy as the forms
        password = row["password"] or generate_password()
        quota = parse_size(row["quota"]) if row["quota"] else None
        return services.NewMailbox(domain=domain, local_part=local_part, password=password, name=row["name"],
                                   quota_bytes=quota, active=active,
                                   password_hash=DRY_RUN_HASH if dry_run else None), "" if row["password"] else password
    if kind == "alias":
        destinations = [d for d in _SEPARATORS.split(row["destinations"]) if d]
        if not destinations:
            raise ValidationError(_("An alias needs at least one destination."), code="import_destinations")
        return services.NewAlias(domain=domain, local_part=local_part, destinations=destinations, active=active), ""
    raise ValidationError(_("The type must be mailbox or alias."), code="import_type")


def _domains(rows: list[dict[str, str]], domain_scope) -> dict[str, Domain]:
    """The domains of `domain_scope` the rows name, in one query."""
    names = set()
    for row in rows:
        try:
            names.add(_split(row["address"])[1])
        except ValidationError:
            pass  # the row reports it
    return {d.name: d for d in domain_scope.filter(name__in=names)}


def import_rows(rows: Iterable[dict[str, str]], *, acting_user, domain_scope, dry_run: bool) -> ImportResult:
    """Import `rows` (read_rows) into the domains of `domain_scope` (a Domain queryset: the
    admin's domains, or all of them for the CLI). Commits only when not `dry_run` and every
    row passed; otherwise nothing is written. Generated passwords are in the result only.

    The rows go to services.addresses_create together: the rules of mailbox_create and
    alias_create, row by row in file order, but the reads and writes in batches."""
    rows = list(rows)
    results = [RowResult(line=line, kind=row["type"].lower(), address=row["address"])
               for line, row in enumerate(rows, start=2)]
    with transaction.atomic():
        domains = _domains(rows, domain_scope)
        items, owners = [], []
        for row, result in zip(rows, results):
            try:
                item, result.generated_password = _item(row, domains, dry_run)
            except ValidationError as exc:
                result.error = _messages(exc)
                continue
            items.append(item)
            owners.append(result)
        if items:
            for result, created in zip(owners, services.addresses_create(items=items, acting_user=acting_user)):
                if isinstance(created, ValidationError):
                    result.error = _messages(created)
                else:
                    result.ok = True
        committed = not dry_run and all(r.ok for r in results)
        if not committed:
            transaction.set_rollback(True)
    if not committed:
        for result in results:
            result.generated_password = ""  # nothing was created: these passwords open nothing
    return ImportResult(rows=results, committed=committed)


def passwords_csv(result: ImportResult) -> str:
    """The generated passwords as CSV (address,password), to hand over once."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["address", "password"])
    for row in result.generated:
        writer.writerow([row.address, row.generated_password])
    return out.getvalue()


def export_rows(mailboxes, aliases) -> Iterator[list[str]]:
    """The import format for existing mailboxes and aliases (never a password), header first."""
    yield list(COLUMNS)
    for mailbox in mailboxes.iterator(chunk_size=2000):
        yield ["mailbox", csv_safe(address_display(mailbox.address)), csv_safe(mailbox.name),
               format_size(mailbox.quota_bytes),
               "", "", "yes" if mailbox.active else "no"]
    for alias in aliases.iterator(chunk_size=2000):
        yield ["alias", csv_safe(alias.display_address), "", "", "", csv_safe(" ".join(alias.display_destinations)),
               "yes" if alias.active else "no"]


def exportable(mailboxes, aliases):
    """Querysets narrowed to what the export reads."""
    return (mailboxes.only("address", "name", "quota_bytes", "active").order_by("address"),
            aliases.filter(mailbox__isnull=True).only("address", "destinations", "active").order_by("address"))

