"""Seed a benchmark dataset straight into the schema with set-based SQL (seconds, not hours).

    DATABASE_URL=... python bench/seed.py [--domains 1000] [--mailboxes 100000] [--big 20000]

Creates `--domains` domains (`bench-0001.example` ...), one of which (`big.bench.example`)
holds `--big` mailboxes; the other mailboxes spread evenly over the rest. Every mailbox gets
a quota usage row with realistic fullness (some never delivered, some over quota), one alias
per five mailboxes, a catch-all on every tenth domain and an alias domain on every tenth.
All mailboxes share one real {ARGON2ID} hash of the password `bench-password`.
Refuses to run on a database that already has domains unless --force (which wipes the tables).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from domains.passwords import hash_password  # noqa: E402

BIG_DOMAIN = "big.bench.example"
BENCH_PASSWORD = "bench-password"
G = 1024**3


def seed(domains: int, mailboxes: int, big: int, force: bool = False) -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM domain")
        if cur.fetchone()[0] and not force:
            raise SystemExit("the database already has domains; use --force to wipe and reseed")
    password = hash_password(BENCH_PASSWORD)
    others = mailboxes - big
    per_domain = max(others // max(domains - 1, 1), 1)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("TRUNCATE audit_entry, quota_usage, alias, alias_domain, admin_domain, mailbox, domain "
                    "RESTART IDENTITY CASCADE")
        cur.execute("""
            INSERT INTO domain (name, description, active, backup_mx, transport, max_mailboxes, max_aliases,
                                max_quota_bytes, quota_bytes, default_quota_bytes, allow_external_forwarding,
                                created, modified)
            SELECT CASE WHEN i = 1 THEN %(big_name)s ELSE 'bench-' || lpad(i::text, 4, '0') || '.example' END,
                   'benchmark domain ' || i, true, false, '', 0, 0, 10 * %(g)s::bigint, 0, %(g)s::bigint,
                   true, now(), now()
            FROM generate_series(1, %(domains)s) AS i
        """, {"big_name": BIG_DOMAIN, "domains": domains, "g": G})
        # Mailbox n lives in the big domain for n <= big, else spreads over domains 2..N.
        cur.execute("""
            INSERT INTO mailbox (domain_id, local_part, address, name, password, quota_bytes, maildir, active,
                                 password_changed, created, modified)
            SELECT d.id, m.local_part, m.local_part || '@' || d.name, 'User ' || m.n, %(password)s,
                   %(g)s::bigint, d.name || '/' || m.local_part || '/', (m.n %% 50) <> 0, now(), now(), now()
            FROM (
                SELECT n, 'user' || n AS local_part,
                       CASE WHEN n <= %(big)s THEN 1 ELSE 2 + ((n - %(big)s - 1) / %(per)s) %% (%(domains)s - 1) END
                           AS domain_no
                FROM generate_series(1, %(mailboxes)s) AS n
            ) m JOIN domain d ON d.id = m.domain_no
        """, {"password": password, "g": G, "big": big, "per": per_domain, "domains": domains,
              "mailboxes": mailboxes})
        # Fullness: 5% never delivered (updated_at NULL), the rest spread 0-110% with a tail near full.
        cur.execute("""
            INSERT INTO quota_usage (username, bytes, messages, updated_at)
            SELECT address,
                   CASE WHEN id %% 20 = 0 THEN 0
                        ELSE (quota_bytes * (((id * 7919) %% 1100) / 1000.0))::bigint END,
                   CASE WHEN id %% 20 = 0 THEN 0 ELSE (id * 31) %% 5000 END,
                   CASE WHEN id %% 20 = 0 THEN NULL ELSE now() - ((id %% 1000) || ' minutes')::interval END
            FROM mailbox
        """, {})
        cur.execute("""
            INSERT INTO alias (domain_id, address, destinations, mailbox_id, active, created, modified)
            SELECT domain_id, 'alias-' || local_part || '@' || split_part(address, '@', 2),
                   ARRAY[address, 'external' || id || '@elsewhere.example'], NULL, true, now(), now()
            FROM mailbox WHERE id %% 5 = 0
        """, {})
        cur.execute("""
            INSERT INTO alias (domain_id, address, destinations, mailbox_id, active, created, modified)
            SELECT id, '@' || name, ARRAY['user1@' || %(big_name)s], NULL, true, now(), now()
            FROM domain WHERE id %% 10 = 0
        """, {"big_name": BIG_DOMAIN})
        cur.execute("""
            INSERT INTO alias_domain (name, target_id, active, approved, created, modified)
            SELECT 'alias-of-' || name, id, true, true, now(), now() FROM domain WHERE id %% 10 = 1
        """, {})
        counts = {}
        for table in ("domain", "mailbox", "alias", "alias_domain", "quota_usage"):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
    # What autovacuum does to a live database soon after a bulk load: statistics for the
    # planner and a visibility map, so COUNT(*) can use index-only scans. (VACUUM cannot run
    # inside a transaction: the tests, which seed inside one, get the statistics only.)
    with connection.cursor() as cur:
        cur.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--mailboxes", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=20_000, help="mailboxes in big.bench.example")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    print(seed(args.domains, args.mailboxes, args.big, args.force))


if __name__ == "__main__":
    main()
