"""manage.py domain add|update|list|show|delete"""
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q, Sum

from domains import services
from domains.addresses import normalize_domain
from domains.cli import (SIZE_HELP, add_active_flags, print_object, print_rows, run_service, size_arg,
                         validation_message)
from domains.models import Domain
from domains.units import format_quota, format_size

LIMIT_OPTIONS = {
    "description": "description", "max_mailboxes": "max_mailboxes", "max_aliases": "max_aliases",
    "max_quota": "max_quota_bytes", "quota": "quota_bytes", "default_quota": "default_quota_bytes",
    "transport": "transport",
}


def get_domain(name: str) -> Domain:
    from django.core.exceptions import ValidationError

    try:
        return Domain.objects.get(name=normalize_domain(name))
    except ValidationError as exc:
        raise CommandError(validation_message(exc)) from None
    except Domain.DoesNotExist:
        raise CommandError(f"domain {name} does not exist") from None


def domain_data(domain: Domain) -> dict:
    return {
        "name": domain.name, "display_name": domain.display_name, "description": domain.description,
        "active": domain.active, "backup_mx": domain.backup_mx, "transport": domain.transport,
        "max_mailboxes": domain.max_mailboxes, "max_aliases": domain.max_aliases,
        "max_quota": domain.max_quota_bytes, "quota": domain.quota_bytes,
        "default_quota": domain.default_quota_bytes,
        "allow_external_forwarding": domain.allow_external_forwarding,
    }


class Command(BaseCommand):
    help = "Manage mail domains."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|update|list|show|delete")

        def limits(p, defaults: bool):
            none = None if not defaults else 0
            p.add_argument("--description", default=None if not defaults else "")
            p.add_argument("--max-mailboxes", type=int, default=none, metavar="N")
            p.add_argument("--max-aliases", type=int, default=none, metavar="N")
            p.add_argument("--max-quota", type=size_arg, default=none, metavar="SIZE",
                           help="largest quota of one mailbox; " + SIZE_HELP)
            p.add_argument("--quota", type=size_arg, default=none, metavar="SIZE",
                           help="total quota of the domain; " + SIZE_HELP)
            p.add_argument("--default-quota", type=size_arg, default=none, metavar="SIZE",
                           help="quota of a new mailbox; " + SIZE_HELP)
            p.add_argument("--transport", default=None if not defaults else "", metavar="T")
            fwd = p.add_mutually_exclusive_group()
            fwd.add_argument("--allow-external-forwarding", dest="external", action="store_const", const=True,
                             default=None)
            fwd.add_argument("--no-external-forwarding", dest="external", action="store_const", const=False)

        add = sub.add_parser("add", help="create a domain")
        add.add_argument("name")
        limits(add, defaults=True)
        add.add_argument("--backup-mx", action="store_true")
        add.add_argument("--inactive", action="store_true")
        add.add_argument("--allow-lookalike", action="store_true",
                         help="accept a name that can be mistaken for another (UTS #39)")

        update = sub.add_parser("update", help="change a domain")
        update.add_argument("name")
        limits(update, defaults=False)
        backup = update.add_mutually_exclusive_group()
        backup.add_argument("--backup-mx", dest="backup_mx", action="store_const", const=True, default=None)
        backup.add_argument("--no-backup-mx", dest="backup_mx", action="store_const", const=False)
        add_active_flags(update)

        lst = sub.add_parser("list", help="list domains")
        lst.add_argument("--search", default="")
        lst.add_argument("--json", action="store_true")

        show = sub.add_parser("show", help="show one domain")
        show.add_argument("name")
        show.add_argument("--json", action="store_true")

        delete = sub.add_parser("delete", help="delete a domain with its mailboxes, aliases and alias domains")
        delete.add_argument("name")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_add(self, name, backup_mx, inactive, external, allow_lookalike, **opts):
        fields = {field: opts[option] for option, field in LIMIT_OPTIONS.items()}
        domain = run_service(lambda: services.domain_create(
            name=name, acting_user=None, backup_mx=backup_mx, active=not inactive, allow_lookalike=allow_lookalike,
            allow_external_forwarding=True if external is None else external, **fields))
        self.stdout.write(f"created domain {domain.name}")

    def do_update(self, name, backup_mx, active, external, **opts):
        domain = get_domain(name)
        changes = {field: opts[option] for option, field in LIMIT_OPTIONS.items() if opts[option] is not None}
        if backup_mx is not None:
            changes["backup_mx"] = backup_mx
        if active is not None:
            changes["active"] = active
        if external is not None:
            changes["allow_external_forwarding"] = external
        if not changes:
            raise CommandError("nothing to change: give at least one option")
        run_service(lambda: services.domain_update(domain=domain, acting_user=None, **changes))
        self.stdout.write(f"updated domain {domain.name}")

    def do_list(self, search, json, **opts):
        domains = Domain.objects.annotate(
            mailbox_count=Count("mailboxes", distinct=True),
            alias_count=Count("aliases", filter=Q(aliases__mailbox__isnull=True), distinct=True),
        ).order_by("name")
        if search:
            domains = domains.filter(name__icontains=search)
        allocated = dict(Domain.objects.filter(pk__in=domains.values("pk")).annotate(
            total=Sum("mailboxes__quota_bytes")).values_list("pk", "total"))
        rows = [{"name": d.name, "active": d.active, "backup_mx": d.backup_mx,
                 "mailboxes": d.mailbox_count, "max_mailboxes": d.max_mailboxes,
                 "aliases": d.alias_count, "max_aliases": d.max_aliases,
                 "quota_allocated": allocated.get(d.pk) or 0, "quota": d.quota_bytes} for d in domains]
        if not json:
            for row in rows:
                row["quota_allocated"] = format_size(row["quota_allocated"])
                row["quota"] = format_quota(row["quota"])
        print_rows(self.stdout, rows, ["name", "active", "backup_mx", "mailboxes", "max_mailboxes", "aliases",
                                       "max_aliases", "quota_allocated", "quota"], json)

    def do_show(self, name, json, **opts):
        domain = get_domain(name)
        data = domain_data(domain) | services.domain_deletion_summary(domain)
        print_object(self.stdout, data, json)

    def do_delete(self, name, **opts):
        domain = get_domain(name)
        summary = run_service(lambda: services.domain_delete(domain=domain, acting_user=None))
        self.stdout.write(f"deleted domain {domain.name} with {summary['mailboxes']} mailboxes, "
                          f"{summary['aliases']} aliases and {summary['alias_domains']} alias domains")
