"""manage.py sendergrant add|list|remove: explicit send-as grants (smtpd_sender_login_maps)."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains.addresses import normalize_address
from domains.cli import print_rows, run_service, validation_message
from domains.management.commands.mailbox import get_mailbox
from mailaccess import selectors, services
from mailaccess.models import SenderGrant


class Command(BaseCommand):
    help = ("Manage send-as grants: let a mailbox use another address as envelope sender on the "
            "submission port (beyond its own address and the aliases that deliver to it). The CLI "
            "decides like a superadmin: any address, also of another server.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|remove")
        add = sub.add_parser("add", help="let MAILBOX send as ADDRESS")
        add.add_argument("mailbox", metavar="MAILBOX")
        add.add_argument("address", metavar="ADDRESS")
        lst = sub.add_parser("list", help="list grants (of one mailbox, or all), or with --send-as every "
                                          "address a mailbox may send as and why")
        lst.add_argument("mailbox", metavar="MAILBOX", nargs="?")
        lst.add_argument("--send-as", action="store_true", help="every address MAILBOX may send as, with the reason")
        lst.add_argument("--json", action="store_true")
        remove = sub.add_parser("remove", help="withdraw MAILBOX's grant for ADDRESS")
        remove.add_argument("mailbox", metavar="MAILBOX")
        remove.add_argument("address", metavar="ADDRESS")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_add(self, mailbox, address, **opts):
        box = get_mailbox(mailbox)
        grant = run_service(lambda: services.sender_grant_create(mailbox=box, address=address, acting_user=None))
        self.stdout.write(f"{box.address} may now send as {grant.address}")

    def do_list(self, mailbox, send_as, json, **opts):
        if send_as:
            if not mailbox:
                raise CommandError("--send-as needs a MAILBOX")
            rows = [{"address": s.address, "reason": s.reason, "via": s.via}
                    for s in selectors.send_as_addresses(get_mailbox(mailbox))]
            print_rows(self.stdout, rows, ["address", "reason", "via"], json)
            return
        grants = SenderGrant.objects.select_related("mailbox").order_by("mailbox__address", "address")
        if mailbox:
            grants = grants.filter(mailbox=get_mailbox(mailbox))
        rows = [{"id": g.pk, "mailbox": g.mailbox.address, "address": g.address, "created": g.created.isoformat(),
                 "created_by": g.created_by} for g in grants]
        print_rows(self.stdout, rows, ["id", "mailbox", "address", "created", "created_by"], json)

    def do_remove(self, mailbox, address, **opts):
        box = get_mailbox(mailbox)
        try:
            grant = SenderGrant.objects.get(mailbox=box, address=normalize_address(address))
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        except SenderGrant.DoesNotExist:
            raise CommandError(f"{box.address} has no send-as grant for {address}") from None
        services.sender_grant_delete(grant=grant, acting_user=None)
        self.stdout.write(f"{box.address} may no longer send as {grant.address}")
