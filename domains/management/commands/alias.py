"""manage.py alias add|update|list|delete   (ADDRESS may be @domain: the catch-all)"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains import services
from domains.addresses import normalize_address, normalize_domain
from domains.cli import add_active_flags, print_rows, run_service, validation_message
from domains.models import Alias

from .domain import get_domain


def get_alias(address: str) -> Alias:
    try:
        text = address.strip()
        key = "@" + normalize_domain(text[1:]) if text.startswith("@") else normalize_address(text)
        return Alias.objects.select_related("domain").get(address=key, mailbox__isnull=True)
    except ValidationError as exc:
        raise CommandError(validation_message(exc)) from None
    except Alias.DoesNotExist:
        raise CommandError(f"alias {address} does not exist (forwardings are managed with "
                           "`mailbox forward`)") from None


class Command(BaseCommand):
    help = "Manage aliases (ADDRESS may be @domain for the domain's catch-all)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|update|list|delete")
        add = sub.add_parser("add", help="create an alias")
        add.add_argument("address")
        add.add_argument("destinations", nargs="+", metavar="DEST")
        add.add_argument("--inactive", action="store_true")

        update = sub.add_parser("update", help="replace destinations and/or (de)activate")
        update.add_argument("address")
        update.add_argument("destinations", nargs="*", metavar="DEST", help="the new destinations")
        update.add_argument("--add", action="append", default=[], metavar="DEST")
        update.add_argument("--remove", action="append", default=[], metavar="DEST")
        add_active_flags(update)

        lst = sub.add_parser("list", help="list aliases")
        lst.add_argument("--domain", default=None)
        lst.add_argument("--json", action="store_true")

        delete = sub.add_parser("delete", help="delete an alias")
        delete.add_argument("address")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_add(self, address, destinations, inactive, **opts):
        domain, local_part = run_service(lambda: services.find_domain_for_address(address))
        alias = run_service(lambda: services.alias_create(domain=domain, local_part=local_part,
                                                          destinations=destinations, active=not inactive,
                                                          acting_user=None))
        self.stdout.write(f"created alias {alias.address} -> {', '.join(alias.destinations)}")

    def do_update(self, address, destinations, add, remove, active, **opts):
        alias = get_alias(address)
        new = list(destinations) if destinations else list(alias.destinations)
        if add or remove:
            try:
                removed = {normalize_address(r) for r in remove}
            except ValidationError as exc:
                raise CommandError(validation_message(exc)) from None
            new = [d for d in new if d not in removed] + list(add)
        changed = destinations or add or remove
        if not changed and active is None:
            raise CommandError("nothing to change: give destinations, --add, --remove, --active or --inactive")
        alias = run_service(lambda: services.alias_update(alias=alias, acting_user=None,
                                                          destinations=new if changed else None, active=active))
        self.stdout.write(f"updated alias {alias.address} -> {', '.join(alias.destinations)}"
                          f"{'' if alias.active else ' (inactive)'}")

    def do_list(self, domain, json, **opts):
        aliases = Alias.objects.filter(mailbox__isnull=True).order_by("address")
        if domain:
            aliases = aliases.filter(domain=get_domain(domain))
        rows = [{"address": a.address, "destinations": list(a.destinations) if json else ", ".join(a.destinations),
                 "active": a.active} for a in aliases.iterator(chunk_size=2000)]
        print_rows(self.stdout, rows, ["address", "destinations", "active"], json)

    def do_delete(self, address, **opts):
        alias = get_alias(address)
        run_service(lambda: services.alias_delete(alias=alias, acting_user=None))
        self.stdout.write(f"deleted alias {alias.address}")
