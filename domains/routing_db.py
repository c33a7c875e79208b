"""The database side of domains/routing.py: load the rows an address reaches, not the world.

A resolution asks for the domains and addresses it needs (`Rows.missing_*`); the loader
fetches them two queries per round (names, then addresses), together with what they
obviously lead to (an address's domain and catch-all, an alias's destinations, the
alias-domain form), and runs the model again until it asks for nothing new.
"""
from __future__ import annotations

from typing import Iterable

from django.conf import settings as django_settings
from django.db import connection

from .routing import AliasDomainRow, AliasRow, DomainRow, MailboxRow, Model, Problem, Rows, Settings, problems, split

# A write checks the addresses that reach the changed one; past this many it stops looking
# (a fan-in this wide is a mailing list, not an alias chain).
MAX_AFFECTED = 500


def routing_settings() -> Settings:
    return Settings(recipient_delimiter=getattr(django_settings, "MAILADMIN_RECIPIENT_DELIMITER", ""))


def _fetch(rows: Rows, domains: set[str], addresses: set[str]) -> set[str]:
    """Fetch these names into `rows`; return the addresses the fetched rows lead to."""
    domains = {d for d in domains | {split(a)[1] for a in addresses} if d} - rows.known_domains
    targets: dict[str, str] = {}
    if domains:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 'd', d.name, d.active, d.backup_mx, NULL FROM domain d WHERE d.name = ANY(%s) "
                "UNION ALL SELECT 'a', ad.name, ad.active, false, t.name FROM alias_domain ad "
                "JOIN domain t ON t.id = ad.target_id WHERE ad.name = ANY(%s) "
                "UNION ALL SELECT 'd', t.name, t.active, t.backup_mx, NULL FROM alias_domain ad "
                "JOIN domain t ON t.id = ad.target_id WHERE ad.name = ANY(%s)",
                [list(domains)] * 3)
            for kind, name, active, backup_mx, target in cursor.fetchall():
                if kind == "d":
                    rows.domains[name] = DomainRow(name, active, backup_mx)
                    rows.known_domains.add(name)
                else:
                    rows.alias_domains[name] = AliasDomainRow(name, target, active)
                    targets[name] = target
        rows.known_domains |= domains
    wanted = set(addresses)
    for address in addresses:
        local, domain = split(address)
        wanted.add("@" + domain)
        if domain in rows.alias_domains:
            target = rows.alias_domains[domain].target
            wanted |= {f"{local}@{target}", "@" + target}
    for name, target in targets.items():
        wanted.add("@" + target)
    wanted = {a for a in wanted if a} - rows.known_addresses
    leads: set[str] = set()
    if wanted:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 'm', m.address, m.active, m.quota_bytes, coalesce(q.bytes, 0), NULL::varchar[], false "
                "FROM mailbox m LEFT JOIN quota_usage q ON q.username = m.address WHERE m.address = ANY(%s) "
                "UNION ALL SELECT 'a', a.address, a.active, 0, 0, a.destinations, a.mailbox_id IS NOT NULL "
                "FROM alias a WHERE a.address = ANY(%s)", [list(wanted)] * 2)
            for kind, address, active, quota, used, destinations, forwarding in cursor.fetchall():
                if kind == "m":
                    rows.mailboxes[address] = MailboxRow(address, active, quota, used)
                else:
                    rows.aliases[address] = AliasRow(address, tuple(destinations), active, forwarding)
                    leads |= set(destinations)
        rows.known_addresses |= wanted
    return leads - rows.known_addresses


def load(addresses: Iterable[str], *, rounds: int = 4) -> Rows:
    """The rows the expansion of `addresses` reads (prefetched `rounds` levels deep)."""
    rows = Rows()
    frontier = {a.lower() for a in addresses}
    for _ in range(rounds):
        if not frontier:
            break
        frontier = _fetch(rows, set(), frontier)
    return rows


def model_for(addresses: Iterable[str], run) -> Model:
    """A model holding every row `run(model)` reads: runs it, fetches what it missed, again."""
    addresses = list(addresses)
    model = Model(load(addresses), routing_settings())
    for _ in range(100):
        model.rows.missing_domains.clear()
        model.rows.missing_addresses.clear()
        run(model)
        if not model.rows.missing:
            return model
        _fetch(model.rows, set(model.rows.missing_domains), set(model.rows.missing_addresses))
    raise RuntimeError("routing rows did not converge")


def resolve(address: str):
    """The full `Resolution` of one address, from the database (see domains/routing.py)."""
    address = address.strip().lower()
    model = model_for([address], lambda m: m.resolve(address))
    return model.resolve(address)


def addresses_reaching(addresses: Iterable[str], *, limit: int = MAX_AFFECTED) -> list[str]:
    """`addresses` and every alias address whose expansion names one of them, directly or
    through other aliases or an alias domain (GIN index on alias.destinations)."""
    found = list(dict.fromkeys(a.lower() for a in addresses))
    frontier = list(found)
    while frontier and len(found) < limit:
        forms = set(frontier)
        domains = {split(a)[1] for a in frontier}
        with connection.cursor() as cursor:
            cursor.execute("SELECT ad.name, t.name FROM alias_domain ad JOIN domain t ON t.id = ad.target_id "
                           "WHERE t.name = ANY(%s)", [list(domains)])
            for alias_domain, target in cursor.fetchall():
                forms |= {f"{split(a)[0]}@{alias_domain}" for a in frontier if split(a)[1] == target}
            cursor.execute("SELECT address FROM alias WHERE destinations && %s::varchar[] LIMIT %s",
                           [list(forms), limit])
            frontier = [a for (a,) in cursor.fetchall() if a not in found and not a.startswith("@")]
        found += frontier
    return found[:limit]


def addresses_naming_domain(name: str) -> list[str]:
    """Aliases with a destination in domain `name` (for alias-domain writes; reads every alias)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT a.address FROM alias a WHERE EXISTS (SELECT 1 FROM unnest(a.destinations) x "
                       "WHERE split_part(x, '@', 2) = %s)", [name])
        return [a for (a,) in cursor.fetchall()]


def routing_problems(addresses: Iterable[str]) -> list[Problem]:
    """What Postfix would fail on, for `addresses` and the addresses that reach them."""
    affected = [a for a in addresses_reaching(addresses) if not a.startswith("@")]
    model = model_for(affected, lambda m: problems(m, affected))
    return problems(model, affected)
