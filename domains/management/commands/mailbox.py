"""manage.py mailbox add|update|passwd|forward|list|show|delete"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains import services
from domains.addresses import normalize_address
from domains.cli import (add_active_flags, print_object, print_rows, read_password_stdin, run_service,
                         size_arg, validation_message, SIZE_HELP)
from domains.models import Mailbox
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


class Command(BaseCommand):
    help = "Manage mailboxes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="add|update|passwd|forward|list|show|delete")
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
                         "used": used if json else format_size(used)})
        print_rows(self.stdout, rows, ["address", "name", "active", "quota", "used"], json)

    def do_show(self, address, json, **opts):
        m = get_mailbox(address)
        usage = getattr(m, "usage", None)
        forwarding = getattr(m, "forwarding", None)
        print_object(self.stdout, {
            "address": m.address, "display_address": m.display_address, "name": m.name, "active": m.active,
            "quota": m.quota_bytes, "maildir": m.maildir,
            "used_bytes": usage.bytes if usage else 0, "messages": usage.messages if usage else 0,
            "forwarding": list(forwarding.destinations) if forwarding else [],
            "password_changed": m.password_changed, "created": m.created,
        }, json)

    def do_delete(self, address, **opts):
        mailbox = get_mailbox(address)
        run_service(lambda: services.mailbox_delete(mailbox=mailbox, acting_user=None))
        self.stdout.write(f"deleted mailbox {mailbox.address}")
