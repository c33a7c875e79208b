"""manage.py mailbox add|update|passwd|forward|list|show|delete|import|export"""
import csv
import datetime
import os
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains import importing, services
from domains.addresses import normalize_address
from domains.cli import (add_active_flags, print_object, print_rows, read_password_stdin, run_service,
                         size_arg, validation_message, SIZE_HELP)
from domains.models import Alias, Domain, Mailbox
from domains.passwords import generate_password as new_password
from domains.units import format_quota, format_size

from .domain import get_domain


def get_mailbox(address: str) -> Mailbox:
    try:
        return Mailbox.objects.select_related("domain").get(address=normalize_address(address))
    except ValidationError as exc:
        raise CommandError(validation_message(exc)) from None
    except Mailbox.DoesNotExist:
        raise CommandError(f"mailbox {address} does not exist") from None


def _last_login(mailbox: Mailbox) -> str:
    """The last IMAP/POP3 login Dovecot recorded (ISO 8601, UTC), or "" for none."""
    at = mailbox.last_login_at
    return at.astimezone(datetime.timezone.utc).isoformat() if at else ""


class Command(BaseCommand):
    help = "Manage mailboxes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="add|update|passwd|forward|list|show|delete|import|export")
        add = sub.add_parser("add", help="create a mailbox")
        add.add_argument("address")
        add.add_argument("--name", default="")
        add.add_argument("--quota", type=size_arg, default=None, metavar="SIZE",
                         help="default: the domain's default quota; " + SIZE_HELP)
        how = add.add_mutually_exclusive_group(required=True)
        how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        how.add_argument("--generate-password", action="store_true", help="generate one and print it once")
        add.add_argument("--inactive", action="store_true")

        update = sub.add_parser("update", help="change a mailbox")
        update.add_argument("address")
        update.add_argument("--name", default=None)
        update.add_argument("--quota", type=size_arg, default=None, metavar="SIZE", help=SIZE_HELP)
        add_active_flags(update)

        passwd = sub.add_parser("passwd", help="set a mailbox password")
        passwd.add_argument("address")
        passwd.add_argument("--password-stdin", action="store_true", required=True)

        forward = sub.add_parser("forward", help="set (or with no destination, stop) forwarding")
        forward.add_argument("address")
        forward.add_argument("destinations", nargs="*", metavar="DEST")
        forward.add_argument("--keep-copy", action="store_true")

        lst = sub.add_parser("list", help="list mailboxes")
        lst.add_argument("--domain", default=None)
        lst.add_argument("--search", default="")
        lst.add_argument("--json", action="store_true")

        show = sub.add_parser("show", help="show one mailbox")
        show.add_argument("address")
        show.add_argument("--json", action="store_true")

        delete = sub.add_parser("delete", help="delete a mailbox (its mail on disk is left alone)")
        delete.add_argument("address")

        imp = sub.add_parser("import", help="import mailboxes and aliases from a CSV file (domains/importing.py)")
        imp.add_argument("file", help="the CSV file, '-' for stdin")
        imp.add_argument("--dry-run", action="store_true", help="check every row, create nothing")
        imp.add_argument("--passwords-out", metavar="FILE", default=None,
                         help="write generated passwords (address,password) to FILE, mode 0600; "
                              "default: standard output")

        export = sub.add_parser("export", help="write every mailbox and alias in the import format")
        export.add_argument("--domain", default=None)

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_add(self, address, name, quota, password_stdin, generate_password: bool, inactive, **opts):
        domain, local_part = run_service(lambda: services.find_domain_for_address(address))
        if not local_part:
            raise CommandError("a mailbox address needs a name before the @")
        password = read_password_stdin() if password_stdin else new_password()
        mailbox = run_service(lambda: services.mailbox_create(
            domain=domain, local_part=local_part, password=password, name=name, quota_bytes=quota,
            active=not inactive, acting_user=None))
        self.stdout.write(f"created mailbox {mailbox.address}")
        if generate_password:
            self.stdout.write(f"password: {password}")

    def do_update(self, address, name, quota, active, **opts):
        mailbox = get_mailbox(address)
        changes = {k: v for k, v in {"name": name, "quota_bytes": quota, "active": active}.items() if v is not None}
        if not changes:
            raise CommandError("nothing to change: give at least one option")
        run_service(lambda: services.mailbox_update(mailbox=mailbox, acting_user=None, **changes))
        self.stdout.write(f"updated mailbox {mailbox.address}")

    def do_passwd(self, address, **opts):
        mailbox = get_mailbox(address)
        password = read_password_stdin()
        run_service(lambda: services.mailbox_set_password(mailbox=mailbox, password=password, acting_user=None))
        self.stdout.write(f"password changed for {mailbox.address}")

    def do_forward(self, address, destinations, keep_copy, **opts):
        mailbox = get_mailbox(address)
        alias = run_service(lambda: services.mailbox_set_forwarding(
            mailbox=mailbox, destinations=destinations, keep_copy=keep_copy, acting_user=None))
        if alias is None:
            self.stdout.write(f"forwarding off for {mailbox.address}")
        else:
            self.stdout.write(f"{mailbox.address} forwards to {', '.join(alias.destinations)}")

    def do_list(self, domain, search, json, **opts):
        mailboxes = Mailbox.objects.select_related("usage").order_by("address")
        if domain:
            mailboxes = mailboxes.filter(domain=get_domain(domain))
        if search:
            mailboxes = mailboxes.filter(address__icontains=search)
        rows = []
        for m in mailboxes.iterator(chunk_size=2000):
            used = getattr(getattr(m, "usage", None), "bytes", 0)
            rows.append({"address": m.address, "name": m.name, "active": m.active,
                         "quota": m.quota_bytes if json else format_quota(m.quota_bytes),
                         "used": used if json else format_size(used), "last_login": _last_login(m)})
        print_rows(self.stdout, rows, ["address", "name", "active", "quota", "used", "last_login"], json)

    def do_show(self, address, json, **opts):
        m = get_mailbox(address)
        usage = getattr(m, "usage", None)
        forwarding = getattr(m, "forwarding", None)
        print_object(self.stdout, {
            "address": m.address, "display_address": m.display_address, "name": m.name, "active": m.active,
            "quota": m.quota_bytes, "maildir": m.maildir,
            "used_bytes": usage.bytes if usage else 0, "messages": usage.messages if usage else 0,
            "forwarding": list(forwarding.destinations) if forwarding else [],
            "password_changed": m.password_changed, "created": m.created, "last_login": _last_login(m),
        }, json)

    def do_delete(self, address, **opts):
        mailbox = get_mailbox(address)
        run_service(lambda: services.mailbox_delete(mailbox=mailbox, acting_user=None))
        self.stdout.write(f"deleted mailbox {mailbox.address}")

    def do_import(self, file, dry_run, passwords_out, **opts):
        """Exit status 1 when a row is refused (nothing is then created)."""
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
        rows = run_service(lambda: importing.read_rows(text))
        result = importing.import_rows(rows, acting_user=None, domain_scope=Domain.objects.all(), dry_run=dry_run)
        for row in result.errors:
            self.stderr.write(f"line {row.line}: {row.address}: {row.error}")
        ok = len(result.rows) - len(result.errors)
        if result.errors:
            raise CommandError(f"{len(result.errors)} of {len(result.rows)} rows refused; nothing was imported")
        if dry_run:
            self.stdout.write(f"dry run: all {ok} rows can be imported")
            return
        self.stdout.write(f"imported {ok} rows")
        if result.generated:
            if passwords_out:
                # Created 0600 before anything is written: the file holds passwords in clear.
                descriptor = os.open(passwords_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                    out.write(importing.passwords_csv(result))
                self.stdout.write(f"{len(result.generated)} generated passwords written to {passwords_out}")
            else:
                self.stdout.write(importing.passwords_csv(result), ending="")

    def do_export(self, domain, **opts):
        mailboxes, aliases = Mailbox.objects.all(), Alias.objects.all()
        if domain:
            found = get_domain(domain)
            mailboxes, aliases = mailboxes.filter(domain=found), aliases.filter(domain=found)
        writer = csv.writer(self.stdout)
        for row in importing.export_rows(*importing.exportable(mailboxes, aliases)):
            writer.writerow(row)
