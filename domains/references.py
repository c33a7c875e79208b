"""Deletes never leave a dangling destination (issue 13, point 3).

Policy: deleting a mailbox, an alias, an alias domain or a domain REMOVES the deleted
addresses from every other alias and forwarding that names them (with a recipient_delimiter,
their name+extension forms too, unless such a form is itself a mailbox or an alias). An alias
left with no destination is deleted too (and its own address is then removed elsewhere, and so on); a
forwarding left with none is switched off, so the mailbox receives its own mail again. The
confirmation page lists these changes before the delete (`reference_plan`), and the audit row
of the delete records them (`references` in `before`).

Without this, the destination keeps the address: whoever later gets it receives the alias's
mail and may send as it, and while nobody has it the mail goes to the catch-all.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from .models import Alias, AliasDomain, Domain, Mailbox
from .routing import strip_extension
from .routing_db import routing_settings


@dataclass
class ReferenceChange:
    alias: Alias
    removed: list[str]
    kept: list[str]

    @property
    def deletes_alias(self) -> bool:
        return not self.kept

    def as_dict(self) -> dict:
        return {"alias": self.alias.address, "removed": self.removed, "deleted": self.deletes_alias,
                "forwarding": self.alias.mailbox_id is not None}


def _forms(addresses: set[str]) -> set[str]:
    """The addresses and their name@alias-domain forms."""
    domains = {a.rpartition("@")[2] for a in addresses}
    forms = set(addresses)
    for name, target in AliasDomain.objects.filter(target__name__in=domains).values_list("name", "target__name"):
        forms |= {f"{a.rpartition('@')[0]}@{name}" for a in addresses if a.rpartition("@")[2] == target}
    return forms


def aliases_naming_extensions(addresses: set[str]) -> list[int]:
    """Ids of the aliases with a destination name<recipient_delimiter>extension@domain for one
    of `addresses`, and maybe others (`extension_forms` sorts them out); none without a
    delimiter. Through the index alias_destination_stems_gin (migration 0008)."""
    delimiter = routing_settings().recipient_delimiter
    if not addresses or not delimiter:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM alias WHERE alias_destination_stems(destinations) "
                       "&& alias_destination_stems(%s::varchar[])", [sorted(addresses)])
        return [i for (i,) in cursor.fetchall()]


def extension_forms(destinations: set[str], addresses: set[str]) -> dict[str, tuple[str, str]]:
    """The `destinations` that Postfix resolves through one of `addresses`, with an extension
    (recipient_delimiter, Postfix split_addr()): {destination: (address, extension)}. One that
    is itself a mailbox or an alias is left out: Postfix looks the full address up first."""
    delimiter = routing_settings().recipient_delimiter
    found = {}
    for destination in destinations - addresses:
        stripped = strip_extension(destination, delimiter)
        if stripped and stripped[0] in addresses:
            found[destination] = stripped
    for model in (Mailbox, Alias):
        for address in model.objects.filter(address__in=list(found)).values_list("address", flat=True):
            found.pop(address, None)
    return found


def reference_plan(*, addresses: set[str] = frozenset(), domains: set[str] = frozenset(),
                   going: set[int] = frozenset(), lock: bool = False) -> list[ReferenceChange]:
    """What removing `addresses` (and every address of `domains`) does to the other aliases.
    `going` are ids of aliases deleted anyway (the object's own, by cascade)."""
    gone_addresses = _forms(set(addresses)) if addresses else set()
    gone_domains = set(domains)
    changes: dict[int, ReferenceChange] = {}
    frontier_addresses, frontier_domains = set(gone_addresses), set(gone_domains)
    while frontier_addresses or frontier_domains:
        found: list[int] = []
        with connection.cursor() as cursor:
            if frontier_addresses:   # the GIN index on destinations
                cursor.execute("SELECT id FROM alias WHERE destinations && %s::varchar[]",
                               [list(frontier_addresses)])
                found += [i for (i,) in cursor.fetchall()]
            if frontier_domains:     # rare (domain and alias-domain deletes): reads every alias
                cursor.execute("SELECT a.id FROM alias a WHERE EXISTS (SELECT 1 FROM unnest(a.destinations) x "
                               "WHERE split_part(x, '@', 2) = ANY(%s::varchar[]))", [list(frontier_domains)])
                found += [i for (i,) in cursor.fetchall()]
        found += aliases_naming_extensions(frontier_addresses)
        ids = [i for i in dict.fromkeys(found) if i not in going and i not in changes]
        frontier_addresses, frontier_domains = set(), set()
        queryset = Alias.objects.filter(pk__in=ids).order_by("address")
        if lock:
            queryset = queryset.select_for_update()
        aliases = list(queryset)
        extended = extension_forms({d for alias in aliases for d in alias.destinations}, gone_addresses)
        for alias in aliases:
            removed = [d for d in alias.destinations
                       if d in gone_addresses or d in extended or d.rpartition("@")[2] in gone_domains]
            kept = [d for d in alias.destinations if d not in removed]
            if alias.mailbox_id is not None and kept == [alias.address]:
                kept = []   # a forwarding that only keeps its copy is no forwarding
            change = ReferenceChange(alias, removed, kept)
            changes[alias.pk] = change
            if change.deletes_alias and alias.mailbox_id is None:
                new = _forms({alias.address}) - gone_addresses
                gone_addresses |= new
                frontier_addresses |= new
    return sorted(changes.values(), key=lambda c: c.alias.address)


def apply_reference_plan(plan: list[ReferenceChange]) -> list[dict]:
    """Write the plan (inside the caller's transaction); return it for the audit row."""
    for change in plan:
        if change.deletes_alias:
            change.alias.delete()
        else:
            change.alias.destinations = change.kept
            change.alias.save(update_fields=["destinations", "modified"])
    return [c.as_dict() for c in plan]


def domain_addresses(domain: Domain) -> set[str]:
    """The domain names whose every address goes with `domain` (itself and its alias domains)."""
    return {domain.name, *domain.alias_domains.values_list("name", flat=True)}


# What each delete does to the other aliases: the confirmation page shows it, the service applies it.
def mailbox_references(mailbox, *, lock: bool = False) -> list[ReferenceChange]:
    going = set(Alias.objects.filter(mailbox=mailbox).values_list("pk", flat=True))
    return reference_plan(addresses={mailbox.address}, going=going, lock=lock)


def alias_references(alias: Alias, *, lock: bool = False) -> list[ReferenceChange]:
    if alias.is_catchall:   # @domain is never a destination
        return []
    return reference_plan(addresses={alias.address}, going={alias.pk}, lock=lock)


def alias_domain_references(alias_domain: AliasDomain, *, lock: bool = False) -> list[ReferenceChange]:
    return reference_plan(domains={alias_domain.name}, lock=lock)


def domain_references(domain: Domain, *, lock: bool = False) -> list[ReferenceChange]:
    return reference_plan(domains=domain_addresses(domain), lock=lock,
                          going=set(domain.aliases.values_list("pk", flat=True)))
