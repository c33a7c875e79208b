"""List, and rename, the mailboxes and aliases whose address name the mail stack cannot serve."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains import selectors, services
from domains.models import Alias, Mailbox


class Command(BaseCommand):
    help = ("List the mailboxes and aliases whose address name is outside what Postfix and Dovecot serve "
            "(a-z 0-9 . _ -; docs/mailstack.md), which migration domains 0009 refuses to constrain; "
            "--rename ADDRESS NEW_NAME gives one of them a served name (the aliases naming it follow).")

    def add_arguments(self, parser):
        parser.add_argument("--rename", nargs=2, metavar=("ADDRESS", "NEW_NAME"),
                            help="the full address to rename, and its new address name (the part before @)")

    def handle(self, *args, rename, **opts):
        if rename:
            address, new_name = rename
            mailbox = Mailbox.objects.select_related("domain").filter(address=address.strip().lower()).first()
            alias = None if mailbox else Alias.objects.select_related("domain").filter(
                address=address.strip().lower()).first()
            if mailbox is None and alias is None:
                raise CommandError(f"{address}: no such mailbox or alias")
            try:
                if mailbox is not None:
                    renamed = services.mailbox_rename(mailbox=mailbox, local_part=new_name, acting_user=None).address
                else:
                    renamed = services.alias_rename(alias=alias, local_part=new_name, acting_user=None).address
            except ValidationError as exc:
                raise CommandError(f"{address}: {' '.join(exc.messages)}") from exc
            self.stdout.write(f"{address} -> {renamed}")
            return
        unserved = selectors.unserved_addresses()
        for kind, address in unserved:
            self.stdout.write(f"{kind}\t{address}")
        self.stdout.write(f"{len(unserved)} address(es) the mail stack cannot serve"
                          + (": rename each with `manage.py unserved --rename ADDRESS NEW_NAME`" if unserved else ""))
