"""The database side of domains/routing.py: load the rows an address reaches, not the world.

For a write's check, one recursive query fetches every address whose expansion reaches the
changed ones and everything their expansions read (`_AFFECTED_SQL`); for the explainer, one
small query per level (`load`). The model then runs on those rows, and asks for anything the
queries did not foresee (`Rows.missing_*`: an address without its recipient_delimiter
extension, a graph past the bounds), which is fetched one level per round until it asks for
nothing new.
"""
from __future__ import annotations

from typing import Iterable

from django.conf import settings as django_settings
from django.db import connection, transaction

from .routing import AliasDomainRow, AliasRow, DomainRow, MailboxRow, Model, Problem, Rows, Settings, problems, split

# A write checks the addresses that reach the changed one; past this many it stops looking
# (a fan-in this wide is a mailing list, not an alias chain).
MAX_AFFECTED = 500
# The transaction-level advisory lock every write's routing check holds (an arbitrary key:
# the bytes of "mroutin"; pg_advisory_xact_lock takes a bigint).
ROUTING_LOCK = int.from_bytes(b"mroutin", "big")
# How many addresses the one-query prefetch reaches before it leaves the rest to `_converge`.
MAX_REACH = 2000
# More addresses than this in one check are a batch (see routing_problems).
BATCH_ADDRESSES = 50


def routing_settings() -> Settings:
    return Settings(recipient_delimiter=getattr(django_settings, "MAILADMIN_RECIPIENT_DELIMITER", ""))


# The rows at addresses `k` (and at the domain names `%(domains)s`): the domains and alias
# domains of the addresses, then the mailboxes and aliases at the addresses, their @domain
# catch-alls and alias-domain forms. `k` is defined by the query that includes this. (`= ANY
# (ARRAY(...))`, not `IN (...)`, and UNION ALL: the planner cannot size these CTEs, and would
# scan the tables, or set up hash tables for millions of rows, to find a handful.)
_ROWS_OF_K = """
names AS (SELECT split_part(address, '@', 2) AS name FROM k UNION ALL SELECT unnest(%(domains)s::varchar[])),
ad AS (SELECT ad.name, ad.active, t.name AS target FROM alias_domain ad JOIN domain t ON t.id = ad.target_id
       WHERE ad.name = ANY(ARRAY(SELECT name FROM names))),
wanted AS (SELECT address FROM k UNION ALL SELECT '@' || name FROM names
           UNION ALL SELECT split_part(k.address, '@', 1) || '@' || ad.target FROM k JOIN ad ON ad.name = split_part(k.address, '@', 2)
           UNION ALL SELECT '@' || target FROM ad)
SELECT 'd', d.name, d.active, d.backup_mx, NULL, 0, 0, NULL::varchar[] FROM domain d
 WHERE d.name = ANY(ARRAY(SELECT name FROM names UNION ALL SELECT target FROM ad))
UNION ALL SELECT 'ad', name, active, false, target, 0, 0, NULL FROM ad
UNION ALL SELECT 'm', m.address, m.active, false, NULL, m.quota_bytes, coalesce(q.bytes, 0), NULL FROM mailbox m
 LEFT JOIN quota_usage q ON q.username = m.address WHERE m.address = ANY(ARRAY(SELECT address FROM wanted))
UNION ALL SELECT CASE WHEN a.mailbox_id IS NULL THEN 'a' ELSE 'f' END, a.address, a.active, false, NULL, 0, 0,
 a.destinations FROM alias a WHERE a.address = ANY(ARRAY(SELECT address FROM wanted))
UNION ALL SELECT 'g', g.address, true, false, NULL, 0, 0, ARRAY[m.address]::varchar[] FROM sender_grant g
 JOIN mailbox m ON m.id = g.mailbox_id WHERE g.address = ANY(ARRAY(SELECT address FROM wanted))
UNION ALL SELECT 'k', address, false, false, NULL, 0, 0, NULL FROM k
"""

# One level: the rows at the given addresses.
_FETCH_SQL = "WITH k AS (SELECT unnest(%(addresses)s::varchar[]) AS address)," + _ROWS_OF_K

# Every level at once, both directions, in one round trip (the write-time check):
# `up`, the addresses whose expansion names a given address, directly, through an alias
# domain (name@alias-domain for name@target) or through other aliases (GIN index on
# alias.destinations; catch-alls are not followed: no address names them); `down`, everything
# the expansion of those addresses reaches (the address, its @domain catch-all, its
# alias-domain rewrite, then each alias's destinations, again). Both stop at a bound: the
# model asks for anything past it, and `model_for` fetches it. UNION ALL, not UNION, in both:
# PostgreSQL evaluates them lazily, so the LIMITs end them even around a loop (which is what
# the check is there to find), and a UNION would set up a hash table sized for the planner's
# millions of estimated rows on every call.
_AFFECTED_SQL = """
WITH RECURSIVE up(address) AS (
    SELECT unnest(%(addresses)s::varchar[])
    UNION ALL
    SELECT a.address FROM up
    CROSS JOIN LATERAL (SELECT up.address AS form
                        UNION ALL SELECT split_part(up.address, '@', 1) || '@' || ad.name
                        FROM domain t JOIN alias_domain ad ON ad.target_id = t.id
                        WHERE t.name = split_part(up.address, '@', 2) AND %(upstream)s) forms
    CROSS JOIN LATERAL (SELECT a.address FROM alias a WHERE a.destinations @> ARRAY[forms.form]::varchar[]
                        AND a.address NOT LIKE '@%%' OFFSET 0) a
    WHERE %(upstream)s
),
affected AS (SELECT address FROM up LIMIT {MAX_AFFECTED}),
down(address) AS (
    SELECT address FROM affected
    UNION ALL
    SELECT d.address FROM down
    CROSS JOIN LATERAL (SELECT down.address AS key UNION ALL SELECT '@' || split_part(down.address, '@', 2)
                        UNION ALL SELECT x.key FROM alias_domain ad JOIN domain t ON t.id = ad.target_id,
                        LATERAL (VALUES (split_part(down.address, '@', 1) || '@' || t.name), ('@' || t.name)) x(key)
                        WHERE ad.name = split_part(down.address, '@', 2)) keys
    CROSS JOIN LATERAL (SELECT a.destinations FROM alias a WHERE a.address = keys.key LIMIT 1) a
    CROSS JOIN LATERAL unnest(a.destinations) d(address)
),
k AS (SELECT address FROM down LIMIT {MAX_REACH}),""".format(MAX_AFFECTED=MAX_AFFECTED, MAX_REACH=MAX_REACH) + _ROWS_OF_K + """
UNION ALL SELECT 'up', address, false, false, NULL, 0, 0, NULL FROM affected
"""


# _AFFECTED_SQL as a server-side prepared statement ($1 addresses, $2 upstream).
_REACH_PREPARE = ("PREPARE mailadmin_routing_reach(varchar[], boolean) AS "
                  + _AFFECTED_SQL.replace("%(addresses)s", "$1").replace("%(upstream)s", "$2")
                  .replace("%(domains)s", "'{}'").replace("%%", "%"))


def _store(rows: Rows, domains: set[str], result) -> tuple[set[str], list[str]]:
    """Put the rows of a `_ROWS_OF_K` query into `rows`, and note what it looked for (its
    `names` and `wanted`), found or not. Returns (the addresses the fetched aliases lead to,
    the `up` addresses)."""
    leads: set[str] = set()
    addresses: set[str] = set()
    up: list[str] = []
    for kind, name, active, backup_mx, target, quota, used, destinations in result:
        if kind == "d":
            rows.domains[name] = DomainRow(name, active, backup_mx)
        elif kind == "ad":
            rows.alias_domains[name] = AliasDomainRow(name, target, active)
        elif kind == "m":
            rows.mailboxes[name] = MailboxRow(name, active, quota, used)
        elif kind == "k":
            addresses.add(name)
        elif kind == "up":
            up.append(name)
        elif kind == "g":   # a send-as grant: the grantee mailbox is loaded next round
            rows.grants[name] = rows.grants.get(name, ()) + tuple(destinations)
            leads |= set(destinations)
        else:
            rows.aliases[name] = AliasRow(name, tuple(destinations), active, kind == "f")
            leads |= set(destinations)
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
    return leads - rows.known_addresses, up


def _fetch(rows: Rows, domains: set[str], addresses: set[str]) -> set[str]:
    """Fetch these names into `rows` (one query); return the addresses the fetched rows lead to."""
    addresses = {a for a in addresses if a} - rows.known_addresses
    domains = {d for d in domains if d} - rows.known_domains
    if not addresses and not domains:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_FETCH_SQL, {"addresses": sorted(addresses), "domains": sorted(domains)})
        return _store(rows, domains, cursor.fetchall())[0]


def _fetch_reach(rows: Rows, addresses: list[str], *, upstream: bool) -> list[str]:
    """Fetch, in one query, what the expansion of `addresses` reads and (`upstream`) the
    addresses reaching them and what theirs reads; return `addresses` and those reaching them.
    Takes ROUTING_LOCK (see routing_problems)."""
    # Planning this query costs more than running it, so it is a prepared statement, planned
    # once per connection (generic plan). JIT off: the planner sizes a recursive CTE
    # pessimistically (ten times its first term, per level), which puts the query past
    # jit_above_cost, and JIT compilation would then take a second or two. Both settings are
    # LOCAL: a write's check runs inside the write's transaction, and they end with it.
    # Whether the statement exists is asked of the server, in this transaction, not remembered
    # per client connection: the server session may not be the one it was prepared on (a
    # pooler in transaction mode hands out any server connection, and its reset query or a
    # DISCARD ALL deallocates it), and inside one transaction it stays the same session.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s), set_config('jit', 'off', true), "
                       "set_config('plan_cache_mode', 'force_generic_plan', true), "
                       "EXISTS (SELECT FROM pg_prepared_statements WHERE name = 'mailadmin_routing_reach')",
                       [ROUTING_LOCK])
        if not cursor.fetchone()[3]:
            cursor.execute(_REACH_PREPARE)
        cursor.execute("EXECUTE mailadmin_routing_reach(%s, %s)", [addresses, upstream])
        _leads, up = _store(rows, set(), cursor.fetchall())
    return list(dict.fromkeys(addresses + up))[:MAX_AFFECTED]


def load(addresses: Iterable[str], *, rounds: int = 4) -> Rows:
    """The rows the expansion of `addresses` reads, prefetched `rounds` levels deep, one small
    query per level (for the explainer: outside a transaction, `_fetch_reach` would cost a
    BEGIN, its SET LOCAL and a COMMIT more, and a chain is rarely more than two levels deep)."""
    rows = Rows()
    frontier = {a.lower() for a in addresses}
    for _ in range(rounds):
        if not frontier:
            break
        frontier = _fetch(rows, set(), frontier)
    return rows


def _converge(model: Model, run):
    """Run `run(model)` until it reads no row the model lacks (fetching what it missed between
    runs); return the last run's result, computed on every row it needed."""
    for _ in range(100):
        model.rows.missing_domains.clear()
        model.rows.missing_addresses.clear()
        result = run(model)
        if not model.rows.missing:
            return result
        _fetch(model.rows, set(model.rows.missing_domains), set(model.rows.missing_addresses))
    raise RuntimeError("routing rows did not converge")


def model_for(addresses: Iterable[str], run) -> Model:
    """A model holding every row `run(model)` reads (starting from the reach of `addresses`)."""
    model = Model(load(addresses), routing_settings())
    _converge(model, run)
    return model


def resolve(address: str):
    """The full `Resolution` of one address, from the database (see domains/routing.py)."""
    address = address.strip().lower()
    return _converge(Model(load([address]), routing_settings()), lambda m: m.resolve(address))


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


def addresses_naming_domains(names: Iterable[str]) -> list[str]:
    """Aliases (catch-alls included, as @domain) with a destination in one of the domains
    `names` (for domain and alias-domain writes; reads every alias)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT a.address FROM alias a WHERE EXISTS (SELECT 1 FROM unnest(a.destinations) x "
                       "WHERE split_part(x, '@', 2) = ANY(%s::varchar[]))", [sorted(set(names))])
        return [a for (a,) in cursor.fetchall()]


def routing_problems(addresses: Iterable[str], *, upstream: bool = True) -> list[Problem]:
    """What Postfix would fail on, for `addresses` and (`upstream`) the addresses that reach them.
    For a write's check: takes ROUTING_LOCK, held until the write's transaction ends."""
    # SECURITY: one routing write's check at a time, from its first query to its commit. Two
    # writes in different domains hold different domain locks, and each would check a state
    # without the other's uncommitted half (x -> y and y -> x, both accepted: a loop). Under
    # READ COMMITTED, the queries after the lock see what the previous holder committed.
    # (`_fetch_reach` takes it in its first query.)
    addresses = list(dict.fromkeys(a.lower() for a in addresses))
    if len(addresses) > BATCH_ADDRESSES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROUTING_LOCK])
        # A batch (CSV or Postfixadmin import: thousands of new addresses) is past the one
        # query's fixed bounds, which would drop addresses from the check: load it level by
        # level, with room for MAX_AFFECTED upstream addresses beyond those given.
        reaching = addresses_reaching(addresses, limit=len(addresses) + MAX_AFFECTED) if upstream else addresses
        affected = [a for a in reaching if not a.startswith("@")]
        model = model_for(affected, lambda m: problems(m, affected))
        return problems(model, affected)
    rows = Rows()
    affected = _fetch_reach(rows, addresses, upstream=upstream)
    affected = [a for a in affected if not a.startswith("@")]
    return _converge(Model(rows, routing_settings()), lambda m: problems(m, affected))
