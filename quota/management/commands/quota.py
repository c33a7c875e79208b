"""manage.py quota report [--domain D] [--over 85] [--format table|csv|json] [--notify [--dry-run]]

The CSV is the panel's export (quota/export.py): written by PostgreSQL, formula-safe."""
import json

from django.core.management.base import BaseCommand, CommandError

from domains.management.commands.domain import get_domain
from domains.units import format_size
from quota.export import csv_chunks
from quota.selectors import UsageQuery, usage_for
from quota.services import quota_notify


class Command(BaseCommand):
    help = "Report quota usage (for cron); --notify warns mailboxes over the threshold, once per crossing."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="report")
        report = sub.add_parser("report", help="print usage, fullest first")
        report.add_argument("--domain", default=None)
        report.add_argument("--over", type=int, default=None, metavar="PERCENT",
                            help="only mailboxes at or over this percentage of their quota")
        report.add_argument("--format", choices=["table", "csv", "json"], default="table")
        report.add_argument("--notify", action="store_true",
                            help="e-mail each mailbox over --over (default 90) and a summary to each postmaster")
        report.add_argument("--dry-run", action="store_true", help="with --notify: say who, send nothing")

    def handle(self, *args, action, domain, over, format, notify, dry_run, **options):
        if over is not None and not 0 < over <= 1000:
            raise CommandError("--over takes a percentage between 1 and 1000")
        domain_obj = get_domain(domain) if domain else None
        rows = usage_for(None, UsageQuery(domain=domain_obj), all_domains=True)
        if over is not None:
            rows = rows.filter(fill_ratio__gte=over / 100)
        if format == "csv":
            self.write_csv(rows)
        else:
            records = ({
                "address": u.mailbox.address, "domain": u.mailbox.domain.name, "quota_bytes": u.mailbox.quota_bytes,
                "used_bytes": u.bytes, "messages": u.messages,
                "percent": None if u.fill_ratio is None else round(u.fill_ratio * 100, 1),
                "last_update": u.updated_at.isoformat() if u.updated_at else None,
            } for u in rows.iterator(chunk_size=2000))
            getattr(self, f"write_{format}")(records)
        if notify:
            result = quota_notify(threshold=over or 90, domain=domain_obj, dry_run=dry_run)
            verb = "would warn" if dry_run else "warned"
            self.stderr.write(f"{verb} {len(result.warned)} mailboxes, {len(result.summaries)} postmasters; "
                              f"re-armed {result.rearmed}")

    def write_json(self, records):
        self.stdout.write(json.dumps(list(records), indent=2))

    def write_csv(self, rows):
        # Written by PostgreSQL, like the panel's export (quota/export.py): the same columns.
        for chunk in csv_chunks(rows):
            self.stdout.write(chunk.decode(), ending="")

    def write_table(self, records):
        self.stdout.write(f"{'ADDRESS':40} {'USED':>8} {'QUOTA':>8} {'%':>6} {'MESSAGES':>9}  LAST UPDATE")
        for r in records:
            percent = "-" if r["percent"] is None else f"{r['percent']:.1f}"
            quota = format_size(r["quota_bytes"]) if r["quota_bytes"] else "unlim."
            self.stdout.write(f"{r['address']:40} {format_size(r['used_bytes']):>8} {quota:>8} {percent:>6} "
                              f"{r['messages']:>9}  {r['last_update'] or 'never'}")
