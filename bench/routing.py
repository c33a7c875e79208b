"""The routing model at 100,000 mailboxes: the explainer and the write-time checks.

    bench/run bench/routing.py [--runs 50] [--baseline DIR]

Seeds the dataset (bench/seed.py), then measures
1. `manage.py route` (domains.routing_db.resolve, and the command in-process, without Django's
   start-up) and the route page (Django test client, server time; over HTTP behind gunicorn:
   bench/http_pages.py --only route) for a mailbox, an alias, an alias-domain address, an unknown address caught by
   a catch-all, and an alias of 20 members; the issue's budget is 50 ms per address;
2. the routing check a write adds (domains.routing_db.routing_problems on the written address),
   and mailbox/alias writes with and without it, alternating run by run (a busy machine's noise
   then hits both alike); the budget is 5 ms added per write;
3. with `--baseline DIR` (another checkout, e.g. `git archive main | tar -x -C /tmp/base`): its
   domains/routing_db.py (the loader; the model is this checkout's) against this one, on the same
   data, alternating call by call: the explainer's resolve, and the check inside a transaction,
   as a write runs it.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SeededSite, measure, setup_django  # noqa: E402

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from domains import routing_db, services  # noqa: E402
from domains.models import Alias, Domain  # noqa: E402


class Rollback(Exception):
    pass


def in_rollback(call):
    """Run a write and undo it, so every run writes the same thing."""
    def run():
        try:
            with transaction.atomic():
                call()
                raise Rollback
        except Rollback:
            pass
    return run


def main() -> None:
    site = SeededSite()
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM mailbox WHERE domain_id = %s ORDER BY id LIMIT 1", [site.big])
        mailbox = cursor.fetchone()[0]
        cursor.execute("SELECT address FROM alias WHERE address NOT LIKE '@%%' AND mailbox_id IS NULL ORDER BY id LIMIT 1")
        alias = cursor.fetchone()[0]
        cursor.execute("SELECT ad.name, d.name FROM alias_domain ad JOIN domain d ON d.id = ad.target_id "
                       "ORDER BY ad.id LIMIT 1")
        alias_domain, target = cursor.fetchone()
        cursor.execute("SELECT substr(address, 2) FROM alias WHERE address LIKE '@%%' ORDER BY id LIMIT 1")
        (catchall_domain,) = cursor.fetchone()
        cursor.execute("SELECT address FROM mailbox WHERE domain_id = (SELECT id FROM domain WHERE name = %s) "
                       "ORDER BY id LIMIT 20", [target])
        members = [a for (a,) in cursor.fetchall()]
    big_alias = services.alias_create(domain=Domain.objects.get(name=target), local_part="bench-list",
                                      destinations=members, acting_user=None).address
    local = members[0].split("@")[0]
    probes = {"mailbox": mailbox, "alias": alias, "alias-domain address": f"{local}@{alias_domain}",
              "unknown, catch-all": f"nobody@{catchall_domain}", "alias of 20 mailboxes": big_alias}
    print("\n1. explainer (budget 50 ms per address)")
    for label, address in probes.items():
        measure(f"route {label}", lambda a=address: routing_db.resolve(a), runs=site.runs)
        measure(f"manage.py route --json {label}", lambda a=address: call_command(
            "route", a, as_json=True, stdout=io.StringIO()), runs=site.runs)
        measure(f"page /route/ {label}", lambda a=address: site.get(f"/route/?address={a}"), runs=site.runs)

    print("\n2. write-time checks (budget 5 ms added per write)")
    for label, address in probes.items():
        measure(f"check {label}", lambda a=address: routing_db.routing_problems([a]), runs=site.runs)
    big = Domain.objects.get(pk=site.big)
    list_alias = Alias.objects.get(address=big_alias)

    writes = {
        "mailbox_create": lambda: services.mailbox_create(
            domain=big, local_part="bench-new", password="bench-password", acting_user=None),
        "alias_create (3 destinations)": lambda: services.alias_create(
            domain=big, local_part="bench-alias", destinations=[mailbox, big_alias, "x@remote.example"],
            acting_user=None),
        "alias_update (20 destinations)": lambda: services.alias_update(
            alias=list_alias, destinations=members[::-1], acting_user=None),
    }
    for label, write in writes.items():
        paired(label, in_rollback(write), runs=site.runs)

    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path)
    baseline = parser.parse_known_args()[0].baseline
    if baseline:
        old = baseline_loader(baseline)
        print(f"\n3. this checkout's loader against {baseline}'s, alternating")
        for label, address in probes.items():
            alternate(f"route {label}", lambda a=address: routing_db.resolve(a),
                      lambda a=address: old.resolve(a), runs=site.runs)
            alternate(f"check {label}, in a transaction", in_rollback(lambda a=address: routing_db.routing_problems([a])),
                      in_rollback(lambda a=address: old.routing_problems([a])), runs=site.runs)


def baseline_loader(tree: Path):
    """`tree`'s domains/routing_db.py, imported beside this one (on this checkout's model)."""
    spec = importlib.util.spec_from_file_location("domains.baseline_routing_db", tree / "domains" / "routing_db.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alternate(label: str, this, other, runs: int, warmup: int = 3) -> None:
    """Time two implementations of one thing, call by call in turn (ms medians)."""
    def timed(call) -> float:
        start = time.perf_counter()
        call()
        return (time.perf_counter() - start) * 1000

    for _ in range(warmup):
        this(), other()
    pairs = [(timed(this), timed(other)) for _ in range(runs)]
    print(f"{label:45} this {statistics.median(a for a, _ in pairs):7.2f} ms   "
          f"baseline {statistics.median(b for _, b in pairs):7.2f} ms")


def paired(label: str, write, runs: int, warmup: int = 3) -> None:
    """Time `write` with and without the routing check, alternating run by run, so that the
    machine's noise hits both alike; print both medians and the median of the differences (ms)."""
    original = services._check_routing

    def timed(check: bool) -> float:
        services._check_routing = original if check else (lambda *args, **kwargs: None)
        try:
            start = time.perf_counter()
            write()
            return (time.perf_counter() - start) * 1000
        finally:
            services._check_routing = original

    for _ in range(warmup):
        timed(True), timed(False)
    pairs = [(timed(True), timed(False)) for _ in range(runs)]
    with_check = statistics.median(a for a, _ in pairs)
    without = statistics.median(b for _, b in pairs)
    added = statistics.median(a - b for a, b in pairs)
    print(f"{label:40} with the check {with_check:7.2f} ms   without {without:7.2f} ms   "
          f"added (median of pairs) {added:6.2f} ms")

if __name__ == "__main__":
    main()
