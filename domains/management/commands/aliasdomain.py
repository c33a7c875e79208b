"""manage.py aliasdomain add|list|delete"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains import services
from domains.addresses import normalize_domain
from domains.cli import add_active_flags, print_rows, run_service, validation_message
from domains.models import AliasDomain

from .domain import get_domain


def get_alias_domain(name: str) -> AliasDomain:
    try:
        return AliasDomain.objects.select_related("target").get(name=normalize_domain(name))
    except ValidationError as exc:
        raise CommandError(validation_message(exc)) from None
    except AliasDomain.DoesNotExist:
        raise CommandError(f"alias domain {name} does not exist") from None


class Command(BaseCommand):
    help = "Manage alias domains (every address of ALIAS_DOMAIN is the same address of TARGET_DOMAIN)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|approve|update|list|delete")
        add = sub.add_parser("add", help="create an alias domain")
        add.add_argument("alias_domain")
        add.add_argument("target_domain")
        add.add_argument("--inactive", action="store_true")
        add.add_argument("--allow-lookalike", action="store_true",
                         help="accept a name that can be mistaken for another (UTS #39)")
        approve = sub.add_parser("approve", help="approve an alias domain a domain admin requested")
        approve.add_argument("alias_domain")
        approve.add_argument("--allow-lookalike", action="store_true")
        update = sub.add_parser("update", help="(de)activate an alias domain")
        update.add_argument("alias_domain")
        add_active_flags(update)
        lst = sub.add_parser("list", help="list alias domains")
        lst.add_argument("--json", action="store_true")
        delete = sub.add_parser("delete", help="delete an alias domain")
        delete.add_argument("alias_domain")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_add(self, alias_domain, target_domain, inactive, allow_lookalike, **opts):
        target = get_domain(target_domain)
        created = run_service(lambda: services.alias_domain_create(
            name=alias_domain, target=target, active=not inactive, allow_lookalike=allow_lookalike,
            acting_user=None))
        self.stdout.write(f"created alias domain {created.name} -> {target.name}")

    def do_approve(self, alias_domain, allow_lookalike, **opts):
        ad = get_alias_domain(alias_domain)
        run_service(lambda: services.alias_domain_approve(alias_domain=ad, allow_lookalike=allow_lookalike,
                                                          acting_user=None))
        self.stdout.write(f"approved alias domain {ad.name} -> {ad.target.name}")

    def do_update(self, alias_domain, active, **opts):
        if active is None:
            raise CommandError("nothing to change: give --active or --inactive")
        ad = get_alias_domain(alias_domain)
        run_service(lambda: services.alias_domain_set_active(alias_domain=ad, active=active, acting_user=None))
        self.stdout.write(f"updated alias domain {ad.name}")

    def do_list(self, json, **opts):
        rows = [{"alias_domain": ad.name, "unicode": ad.display_name, "target_domain": ad.target.name,
                 "active": ad.active, "approved": ad.approved}
                for ad in AliasDomain.objects.select_related("target").order_by("name")]
        print_rows(self.stdout, rows, ["alias_domain", "unicode", "target_domain", "active", "approved"], json)

    def do_delete(self, alias_domain, **opts):
        ad = get_alias_domain(alias_domain)
        run_service(lambda: services.alias_domain_delete(alias_domain=ad, acting_user=None))
        self.stdout.write(f"deleted alias domain {ad.name}")
