"""manage.py maildirs list|purge: deleted mailboxes' maildirs, on the mail host.

A deleted mailbox's maildir stays on disk and is recorded in `deleted_maildir` (no new mailbox
ever gets it). Run `purge` on the mail host, as the user owning the mail store, typically from
cron: it removes (or, with --archive DIR, moves into DIR) the maildirs deleted more than
--older-than DAYS ago, and marks them purged. The directory name stays reserved.
"""
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from domains.models import DeletedMaildir


class Command(BaseCommand):
    help = "List or purge the maildirs of deleted mailboxes (run on the mail host)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="list|purge")
        sub.add_parser("list", help="deleted maildirs not purged yet")
        purge = sub.add_parser("purge", help="remove or archive deleted maildirs")
        purge.add_argument("--older-than", type=int, required=True, metavar="DAYS",
                           help="only maildirs deleted at least DAYS days ago")
        purge.add_argument("--dry-run", action="store_true", help="say what would be done, do nothing")
        purge.add_argument("--archive", metavar="DIR", help="move the maildirs into DIR instead of removing them")
        for p in sub.choices.values():
            p.add_argument("--mail-root", default=settings.MAIL_ROOT,
                           help="where Dovecot keeps mail (default: MAILADMIN_MAIL_ROOT)")

    def handle(self, *args, action, mail_root, **options):
        root = Path(mail_root).resolve()
        pending = DeletedMaildir.objects.filter(purged__isnull=True)
        if action == "list":
            for row in pending:
                self.stdout.write(f"{row.deleted:%Y-%m-%d}  {row.address}  {root / row.maildir}")
            return
        if options["older_than"] < 0:
            raise CommandError("--older-than must be 0 or more days")
        archive = Path(options["archive"]).resolve() if options["archive"] else None
        if archive and not archive.is_dir():
            raise CommandError(f"--archive {archive}: no such directory")
        cutoff = timezone.now() - timedelta(days=options["older_than"])
        verb = "would archive" if archive else "would remove"
        if not options["dry_run"]:
            verb = verb.replace("would ", "")
        count = 0
        for row in pending.filter(deleted__lte=cutoff):
            path = (root / row.maildir).resolve()
            # SECURITY: never act outside the mail root (maildir is relative, checked by the schema).
            if root not in path.parents:
                raise CommandError(f"{row.maildir}: not under {root}")
            exists = path.exists()
            self.stdout.write(f"{verb} {path}" + ("" if exists else " (already gone)"))
            count += 1
            if options["dry_run"]:
                continue
            if exists and archive:
                target = archive / row.maildir.strip("/").replace("/", "_")
                shutil.move(str(path), str(target))
            elif exists:
                shutil.rmtree(path)
            row.purged = timezone.now()
            row.save(update_fields=["purged"])
        self.stdout.write(f"{count} maildirs" + (" (dry run)" if options["dry_run"] else ""))
