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


# One round trip per round: the domains and alias domains of the addresses, then the
# mailboxes and aliases at the addresses, their @domain catch-alls and alias-domain forms.
_FETCH_SQL = """
WITH k AS (SELECT unnest(%(addresses)s::varchar[]) AS address),
names AS (SELECT split_part(address, '@', 2) AS name FROM k UNION SELECT unnest(%(domains)s::varchar[])),
ad AS (SELECT ad.name, ad.active, t.name AS target FROM alias_domain ad JOIN domain t ON t.id = ad.target_id
       WHERE ad.name IN (SELECT name FROM names)),
wanted AS (SELECT address FROM k UNION SELECT '@' || name FROM names
           UNION SELECT split_part(k.address, '@', 1) || '@' || ad.target FROM k JOIN ad ON ad.name = split_part(k.address, '@', 2)
           UNION SELECT '@' || target FROM ad)
SELECT 'd', d.name, d.active, d.backup_mx, NULL, 0, 0, NULL::varchar[] FROM domain d
 WHERE d.name IN (SELECT name FROM names UNION SELECT target FROM ad)
UNION ALL SELECT 'ad', name, active, false, target, 0, 0, NULL FROM ad
UNION ALL SELECT 'm', m.address, m.active, false, NULL, m.quota_bytes, coalesce(q.bytes, 0), NULL FROM mailbox m
 LEFT JOIN quota_usage q ON q.username = m.address WHERE m.address IN (SELECT address FROM wanted)
UNION ALL SELECT CASE WHEN a.mailbox_id IS NULL THEN 'a' ELSE 'f' END, a.address, a.active, false, NULL, 0, 0,
 a.destinations FROM alias a WHERE a.address IN (SELECT address FROM wanted)
UNION ALL SELECT 'g', g.address, true, false, NULL, 0, 0, ARRAY[m.address]::varchar[] FROM sender_grant g
 JOIN mailbox m ON m.id = g.mailbox_id WHERE g.address IN (SELECT address FROM wanted)
"""


def _fetch(rows: Rows, domains: set[str], addresses: set[str]) -> set[str]:
    """Fetch these names into `rows` (one query); return the addresses the fetched rows lead to."""
    addresses = {a for a in addresses if a} - rows.known_addresses
    domains = {d for d in domains if d} - rows.known_domains
    if not addresses and not domains:
        return set()
    leads: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(_FETCH_SQL, {"addresses": sorted(addresses), "domains": sorted(domains)})
        for kind, name, active, backup_mx, target, quota, used, destinations in cursor.fetchall():
            if kind == "d":
                rows.domains[name] = DomainRow(name, active, backup_mx)
                rows.known_domains.add(name)
            elif kind == "ad":
                rows.alias_domains[name] = AliasDomainRow(name, target, active)
            elif kind == "m":
                rows.mailboxes[name] = MailboxRow(name, active, quota, used)
            elif kind == "g":   # a send-as grant: the grantee mailbox is loaded next round
                rows.grants[name] = rows.grants.get(name, ()) + tuple(destinations)
                leads |= set(destinations)
            else:
                rows.aliases[name] = AliasRow(name, tuple(destinations), active, kind == "f")
                leads |= set(destinations)
    # What the query looked for, found or not (the same sets as its `names` and `wanted`).
    names = domains | {split(a)[1] for a in addresses}
    rows.known_domains |= names
    wanted = set(addresses) | {"@" + n for n in names}
    for address in addresses:
        local, domain = split(address)
        if domain in rows.alias_domains:
            wanted.add(f"{local}@{rows.alias_domains[domain].target}")
    for name in names:
        if name in rows.alias_domains:
            target = rows.alias_domains[name].target
            rows.known_domains.add(target)
            wanted.add("@" + target)
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
    through other aliases or an alias domain (GIN index on alias.destinations; one query per
    level)."""
    found = list(dict.fromkeys(a.lower() for a in addresses))
    frontier = list(found)
    while frontier and len(found) < limit:
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH k AS (SELECT unnest(%s::varchar[]) AS address) "
                "SELECT a.address FROM alias a WHERE a.destinations && ARRAY(SELECT address FROM k UNION "
                "SELECT split_part(k.address, '@', 1) || '@' || ad.name FROM k JOIN domain t "
                "ON t.name = split_part(k.address, '@', 2) JOIN alias_domain ad ON ad.target_id = t.id)::varchar[] "
                "LIMIT %s", [frontier, limit])
            frontier = [a for (a,) in cursor.fetchall() if a not in found and not a.startswith("@")]
        found += frontier
    return found[:limit]


def addresses_naming_domain(name: str) -> list[str]:
    """Aliases with a destination in domain `name` (for alias-domain writes; reads every alias)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT a.address FROM alias a WHERE EXISTS (SELECT 1 FROM unnest(a.destinations) x "
                       "WHERE split_part(x, '@', 2) = %s)", [name])
        return [a for (a,) in cursor.fetchall()]


def routing_problems(addresses: Iterable[str], *, upstream: bool = True) -> list[Problem]:
    """What Postfix would fail on, for `addresses` and (`upstream`) the addresses that reach them."""
    affected = [a for a in (addresses_reaching(addresses) if upstream else addresses) if not a.startswith("@")]
    model = model_for(affected, lambda m: problems(m, affected))
    return problems(model, affected)
