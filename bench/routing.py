"""The routing model at 100,000 mailboxes: the explainer and the write-time checks.

    bench/run bench/routing.py [--runs 50]

Seeds the dataset (bench/seed.py), then measures
1. `manage.py route` work (domains.routing_db.resolve) and the route page (Django test client,
   server time) for a mailbox, an alias, an alias-domain address, an unknown address caught by
   a catch-all, and an alias of 20 members; the issue's budget is 50 ms per address;
2. the routing check a write adds (domains.routing_db.routing_problems on the written address),
   and mailbox/alias writes with and without it; the budget is 5 ms added per write.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SeededSite, measure, setup_django  # noqa: E402

setup_django()

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
        measure(f"page /route/ {label}", lambda a=address: site.get(f"/route/?address={a}"), runs=site.runs)

    print("\n2. write-time checks (budget 5 ms added per write)")
    for label, address in probes.items():
        measure(f"check {label}", lambda a=address: routing_db.routing_problems([a]), runs=site.runs)
    big = Domain.objects.get(pk=site.big)
    list_alias = Alias.objects.get(address=big_alias)

    def writes(suffix: str) -> None:
        measure(f"mailbox_create {suffix}", in_rollback(lambda: services.mailbox_create(
            domain=big, local_part="bench-new", password="bench-password", acting_user=None)), runs=site.runs)
        measure(f"alias_create (3 destinations) {suffix}", in_rollback(lambda: services.alias_create(
            domain=big, local_part="bench-alias", destinations=[mailbox, big_alias, "x@remote.example"],
            acting_user=None)), runs=site.runs)
        measure(f"alias_update (20 destinations) {suffix}", in_rollback(lambda: services.alias_update(
            alias=list_alias, destinations=members[::-1], acting_user=None)), runs=site.runs)

    writes("with the check")
    original = services._check_routing
    services._check_routing = lambda *args, **kwargs: None
    try:
        writes("without the check")
    finally:
        services._check_routing = original


if __name__ == "__main__":
    main()
