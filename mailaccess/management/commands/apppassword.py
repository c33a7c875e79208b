"""manage.py apppassword create|list|revoke: a mailbox's app passwords (see docs/mailstack.md)."""
from django.core.management.base import BaseCommand, CommandError

from domains.cli import print_object, print_rows, run_service
from domains.management.commands.mailbox import get_mailbox
from mailaccess import selectors, services
from mailaccess.models import AppPassword


class Command(BaseCommand):
    help = ("Manage app passwords: extra, revocable passwords of a mailbox for mail programs, "
            "optionally limited to imap, pop3 and/or smtp. The secret is printed once, at creation.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = sub.add_parser("create", help="create an app password and print it (once)")
        create.add_argument("mailbox", metavar="MAILBOX")
        create.add_argument("--name", required=True)
        create.add_argument("--protocol", action="append", default=[], dest="protocols",
                            choices=AppPassword.Protocol.values,
                            help="allow this protocol only (repeat for several; none = IMAP, POP3 and SMTP submission)")
        create.add_argument("--json", action="store_true")
        lst = sub.add_parser("list", help="list a mailbox's app passwords (never their secrets)")
        lst.add_argument("mailbox", metavar="MAILBOX")
        lst.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="revoke an app password by its id (from `list`)")
        revoke.add_argument("mailbox", metavar="MAILBOX")
        revoke.add_argument("id", type=int)

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_create(self, mailbox, name, protocols, json, **opts):
        box = get_mailbox(mailbox)
        created = run_service(lambda: services.app_password_create(mailbox=box, name=name, protocols=protocols,
                                                                   acting_user=None))
        print_object(self.stdout, {**_row(created.app_password), "secret": created.secret}, json)

    def do_list(self, mailbox, json, **opts):
        box = get_mailbox(mailbox)
        rows = [_row(p) for p in selectors.app_passwords_of(box)]
        if not json:
            rows = [{**r, "protocols": ", ".join(r["protocols"]) or "all", "revoked": r["revoked"] or ""}
                    for r in rows]
        print_rows(self.stdout, rows, ["id", "name", "protocols", "created", "revoked"], json)

    def do_revoke(self, mailbox, id, **opts):
        box = get_mailbox(mailbox)
        try:
            app_password = AppPassword.objects.get(mailbox=box, pk=id)
        except AppPassword.DoesNotExist:
            raise CommandError(f"{box.address} has no app password {id}") from None
        services.app_password_revoke(app_password=app_password, acting_user=None)
        self.stdout.write(f"revoked app password {id} ({app_password.name}) of {box.address}")


def _row(app_password: AppPassword) -> dict:
    return {"id": app_password.pk, "mailbox": app_password.mailbox.address, "name": app_password.name,
            "protocols": list(app_password.protocols), "created": app_password.created.isoformat(),
            "revoked": app_password.revoked.isoformat() if app_password.revoked else None}
