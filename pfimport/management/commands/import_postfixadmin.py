"""manage.py import_postfixadmin DATABASE_URL [--dry-run] [--domains a,b] [--quota-multiplier N]"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains.addresses import normalize_domain
from domains.text import printable
from pfimport.plan import DEFAULT_QUOTA_MULTIPLIER, build_plan
from pfimport.services import apply_plan
from pfimport.source import SourceError, read_source

KINDS = {"domain": "domains", "alias_domain": "alias domains", "mailbox": "mailboxes",
         "forwarding": "forwardings", "alias": "aliases", "admin": "admins"}


class Command(BaseCommand):
    help = ("Import a Postfixadmin database (MySQL/MariaDB or PostgreSQL, schema 2.9x to 4.x): domains, "
            "mailboxes with their password hashes and maildirs, aliases, alias domains, quota usage, admins. "
            "One transaction; re-running imports only what is missing. See docs/migrate-from-postfixadmin.md.")

    def add_arguments(self, parser):
        parser.add_argument("database_url", help="mysql://user:pass@host/postfix or postgresql://user:pass@host/postfix")
        parser.add_argument("--dry-run", action="store_true", help="report what would happen, change nothing")
        parser.add_argument("--domains", default="", help="comma-separated domains to import (default: all)")
        parser.add_argument("--quota-multiplier", type=int, default=DEFAULT_QUOTA_MULTIPLIER,
                            help="Postfixadmin's $CONF['quota_multiplier'] (bytes per MB; default 1024000)")

    def handle(self, *args, database_url: str, dry_run: bool, domains: str, quota_multiplier: int, **options):
        only = None
        if domains.strip():
            try:
                only = {normalize_domain(d) for d in domains.split(",") if d.strip()}
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        try:
            source = read_source(database_url)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        plan = build_plan(source, quota_multiplier=quota_multiplier, only_domains=only)
        label = _redacted(database_url)
        result = apply_plan(plan, source_label=f"postfixadmin {source.version} {label}", dry_run=dry_run)

        out = self.stdout
        out.write(f"Postfixadmin source: {label} (schema version {source.version})")
        out.write("DRY RUN: nothing was changed." if dry_run else "Imported in one transaction.")
        verb = "would create" if dry_run else "created"
        updated = "would update" if dry_run else "updated"
        for kind, label in KINDS.items():
            out.write(f"  {label:<14} {verb} {result.created[kind]:>6}   already present {result.present[kind]:>6}"
                      f"   {updated} {result.updated[kind]:>6}")
        out.write(f"  quota usage rows {len(plan.usage)}")
        if result.changes:
            out.write(f"\nChanged in the source since the last import ({len(result.changes)}):")
            for change in result.changes:
                out.write(printable(f"  {change.kind:<12} {change.key:<40} {'; '.join(change.changes)}"))
        if result.notes:
            out.write(f"\nImported with an adjustment ({len(result.notes)}):")
            for note in result.notes:
                out.write(printable(f"  {note.kind:<12} {note.key:<40} {note.code:<26} {note.message}"))
        if result.problems:
            out.write(f"\nNot imported ({len(result.problems)}):")
            for problem in result.problems:
                # Source rows are untrusted text: no control character reaches the terminal.
                out.write(printable(f"  {problem.kind:<12} {problem.key:<40} {problem.code:<26} {problem.message}"))
        else:
            out.write("\nNo problems.")
        if result.created["admin"]:
            out.write("\nImported admins log in with their Postfixadmin password (re-hashed at their first "
                      "login); those listed above as admin_password_reset_needed were imported disabled.")


def _redacted(url: str) -> str:
    """The URL without its password, for the report and the audit log."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
