"""manage.py vacation set|off|list   (a mailbox's automatic reply; docs/mailstack.md, "Vacation replies")"""
import datetime
import sys

from django.core.management.base import BaseCommand, CommandError

from domains.cli import print_object, print_rows, run_service
from domains.management.commands.domain import get_domain
from domains.management.commands.mailbox import get_mailbox
from domains.models import Mailbox
from vacation import services
from vacation.selectors import vacation_rows, vacation_state
from vacation.sieve import MAX_DAYS, MIN_DAYS


def date_arg(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Set, switch off or list mailboxes' automatic (vacation) replies."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="set|off|list")
        set_ = sub.add_parser("set", help="set a mailbox's automatic reply (on unless --off)")
        set_.add_argument("address")
        set_.add_argument("--subject", required=True)
        body = set_.add_mutually_exclusive_group(required=True)
        body.add_argument("--body", help="the reply's text")
        body.add_argument("--body-stdin", action="store_true", help="read the reply's text from standard input")
        set_.add_argument("--first-day", type=date_arg, default=None, metavar="YYYY-MM-DD")
        set_.add_argument("--last-day", type=date_arg, default=None, metavar="YYYY-MM-DD")
        set_.add_argument("--days", type=int, default=7,
                          help=f"reply to the same sender at most once every DAYS days ({MIN_DAYS}-{MAX_DAYS})")
        set_.add_argument("--off", action="store_true", help="store the reply but leave it switched off")
        set_.add_argument("--json", action="store_true")

        off = sub.add_parser("off", help="switch a mailbox's automatic reply off (its text is kept)")
        off.add_argument("address")

        lst = sub.add_parser("list", help="list automatic replies")
        lst.add_argument("--domain", default=None)
        lst.add_argument("--json", action="store_true")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_set(self, address, subject, body, body_stdin, first_day, last_day, days, off, json, **opts):
        mailbox = get_mailbox(address)
        if body_stdin:
            body = sys.stdin.read()
        vacation = run_service(lambda: services.vacation_set(
            mailbox=mailbox, active=not off, subject=subject, body=body, first_day=first_day, last_day=last_day,
            days=days, acting_user=None))
        print_object(self.stdout, {"address": mailbox.address, "active": vacation.active,
                                   "state": vacation_state(vacation), "first_day": vacation.first_day,
                                   "last_day": vacation.last_day, "days": vacation.days}, json)

    def do_off(self, address, **opts):
        mailbox = get_mailbox(address)
        services.vacation_switch_off(mailbox=mailbox, acting_user=None)
        self.stdout.write(f"automatic replies of {mailbox.address} are off")

    def do_list(self, domain, json, **opts):
        mailboxes = Mailbox.objects.all()
        if domain:
            mailboxes = mailboxes.filter(domain=get_domain(domain))
        rows = vacation_rows(mailboxes)
        print_rows(self.stdout, rows, ["address", "state", "first_day", "last_day", "days", "subject"], json)
