"""manage.py route ADDRESS [--json]: where mail to ADDRESS goes, step by step, and who may send as it."""
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains.addresses import normalize_address
from domains.cli import validation_message
from domains.routing_db import resolve
from domains.routing_text import describe


class Command(BaseCommand):
    help = ("Explain how Postfix resolves ADDRESS with the panel's maps (domains/routing.py): each "
            "rewrite and table, the final mailboxes and external addresses, refusals, and the logins "
            "smtpd_sender_login_maps lets send as it.")

    def add_arguments(self, parser):
        parser.add_argument("address")
        parser.add_argument("--json", dest="as_json", action="store_true", help="machine-readable output")

    def handle(self, *args, address: str, as_json: bool = False, **options):
        try:
            address = normalize_address(address)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        resolution = resolve(address)
        if as_json:
            self.stdout.write(json.dumps(resolution.as_dict(), indent=2))
            return
        text = describe(resolution)
        self.stdout.write(f"{text['address']}: {text['rcpt']}")
        for number, step in enumerate(text["steps"], 1):
            self.stdout.write(f"  {number}. {step}")
        for outcome in text["outcomes"]:
            self.stdout.write(f"  → {outcome}")
        self.stdout.write("may send as it: " + (", ".join(text["senders"]) or "nobody"))
        for reason in text["sender_reasons"]:
            self.stdout.write(f"  - {reason}")
