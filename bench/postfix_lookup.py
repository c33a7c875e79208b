"""Postfix/Dovecot lookup latency at 100,000 mailboxes.

    bench/run bench/postfix_lookup.py [--lookups 2000]

Seeds the dataset (bench/seed.py), then measures
1. each contract query (domains/mailstack.py) through psycopg, as proxymap runs it;
2. real `postmap -q - proxy:pgsql:...` batches through a running private Postfix
   (per-lookup time = batch time / keys), and `doveadm auth test` through a private Dovecot.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench.seed import BENCH_PASSWORD, seed  # noqa: E402
from domains.mailstack import POSTFIX_MAPS  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


def keys_for(cursor, count: int) -> dict[str, list[str]]:
    cursor.execute("SELECT address FROM mailbox ORDER BY random() LIMIT %s", [count])
    mailboxes = [r[0] for r in cursor.fetchall()]
    cursor.execute("SELECT address FROM alias WHERE address NOT LIKE '@%%' ORDER BY random() LIMIT %s", [count])
    aliases = [r[0] for r in cursor.fetchall()]
    cursor.execute("SELECT name FROM domain ORDER BY random() LIMIT %s", [count])
    domains = [r[0] for r in cursor.fetchall()]
    cursor.execute("SELECT ad.name FROM alias_domain ad")
    alias_domains = [r[0] for r in cursor.fetchall()]
    return {"mailbox": mailboxes, "alias": aliases, "domain": domains, "alias_domain": alias_domains}


def key_kind(name: str) -> str:
    if name in ("virtual_mailbox_domains", "relay_domains", "transport_maps"):
        return "domain"
    if name == "virtual_alias_domains":
        return "alias_domain"
    if name in ("virtual_alias_maps", "sender_login_maps"):
        return "alias"
    return "mailbox"


def expand(query: str, key: str) -> str:
    local, _sep, domain = key.rpartition("@")
    q = query.replace("%s", key.replace("'", "''"))
    return q.replace("%u", local.replace("'", "''")).replace("%d", domain.replace("'", "''"))


def bench_sql(keys: dict[str, list[str]], lookups: int) -> None:
    print(f"\n1. contract queries through psycopg ({lookups} random keys each), milliseconds")
    print(f"{'map':32} {'median':>8} {'p95':>8} {'max':>8}")
    with connection.cursor() as cursor:
        for pmap in POSTFIX_MAPS:
            pool = keys[key_kind(pmap.name)]
            if pmap.name.startswith("alias_domain"):
                pool = [k.split("@")[0] + "@" + random.choice(keys["alias_domain"]) for k in keys["mailbox"]]
                if pmap.name == "alias_domain_catchall_maps":
                    pool = ["@" + d for d in keys["alias_domain"]]
            times = []
            for i in range(lookups):
                sql = expand(pmap.query, pool[i % len(pool)])
                start = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                times.append((time.perf_counter() - start) * 1000)
            print(f"{pmap.name:32} {statistics.median(times):8.3f} {percentile(times, 0.95):8.3f} {max(times):8.3f}")


def bench_servers(keys: dict[str, list[str]], lookups: int) -> None:
    from tests.mailstack.harness import open_leg, start_mail_stack, stop_mail_stack

    root = Path(tempfile.mkdtemp(prefix="mailadmin-stack-bench-", dir="/tmp"))
    root.chmod(0o755)
    stack = start_mail_stack(root, connection.settings_dict, open_leg("debian12"))  # this machine's servers
    try:
        print(f"\n2. through the running Postfix (postmap -q - proxy:pgsql:..., {lookups} keys per batch)")
        for name in ("virtual_mailbox_maps", "virtual_alias_maps", "virtual_mailbox_domains"):
            pool = keys[key_kind(name)]
            batch = "\n".join(pool[i % len(pool)] for i in range(lookups)) + "\n"
            table = f"proxy:pgsql:{stack.config_dir / 'postfix' / (name + '.cf')}"
            start = time.perf_counter()
            result = subprocess.run(["postmap", "-c", str(stack.postfix_dir), "-q", "-", table], input=batch,
                                    capture_output=True, text=True, timeout=600)
            elapsed = time.perf_counter() - start
            found = len(result.stdout.splitlines())
            print(f"{name:32} {elapsed * 1000 / lookups:8.3f} ms per lookup ({found}/{lookups} found)")
        times = []
        # Active mailboxes only: a refused login waits out Dovecot's auth failure delay.
        with connection.cursor() as cursor:
            cursor.execute("SELECT address FROM mailbox WHERE active ORDER BY random() LIMIT 50")
            addresses = [row[0] for row in cursor.fetchall()]
        for address in addresses:
            start = time.perf_counter()
            ok = stack.auth_test(address, BENCH_PASSWORD)
            times.append((time.perf_counter() - start) * 1000)
            assert ok, f"Dovecot refused {address} with the seeded password"
        print(f"{'doveadm auth test (argon2id)':32} {statistics.median(times):8.1f} ms median, "
              f"{percentile(times, 0.95):.1f} ms p95 (includes starting doveadm)")
    finally:
        stop_mail_stack(stack)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--no-servers", action="store_true")
    args = parser.parse_args()
    print("seeding:", seed(1000, 100_000, 20_000, force=True))
    with connection.cursor() as cursor:
        keys = keys_for(cursor, args.lookups)
    bench_sql(keys, args.lookups)
    if not args.no_servers:
        bench_servers(keys, args.lookups)


if __name__ == "__main__":
    main()
