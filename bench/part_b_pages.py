"""Median server time of the alias, alias-domain, audit and admin pages on seeded data.

    DATABASE_URL=... python bench/seed.py            # 1,000 domains, 100,000 mailboxes, 20,100 aliases
    DATABASE_URL=... python bench/part_b_pages.py    # adds 200,000 audit entries once, then measures

Requests go through Django's test client (the whole middleware stack and template
rendering, no network), 30 times each after one warm-up request.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings_test")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Admin  # noqa: E402
from audit.models import AuditEntry  # noqa: E402
from domains.models import Domain  # noqa: E402

AUDIT_ROWS = 200_000


def seed_audit() -> None:
    if AuditEntry.objects.count() >= AUDIT_ROWS:
        return
    with connection.cursor() as cursor:
        # Fresh statistics for every table, as autovacuum would have by now in production.
        cursor.execute("ANALYZE")
        cursor.execute("""
            INSERT INTO audit_entry (created, actor_label, action, domain_name, object_type, object_repr, before, after)
            SELECT now() - (g || ' seconds')::interval, 'admin' || (g %% 20), 'alias.update',
                   CASE WHEN g %% 10 = 0 THEN 'big.bench.example' ELSE d.name END,
                   'alias', 'a' || g || '@' || d.name, '{"active": true}', '{"active": false}'
            FROM generate_series(1, %s) g JOIN domain d ON d.id = (SELECT min(id) FROM domain) + g %% 999
        """, [AUDIT_ROWS])
        cursor.execute("ANALYZE audit_entry")


def median_ms(user: Admin, url: str, runs: int = 30) -> float:
    client = Client()
    client.force_login(user)
    client.get(url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def main() -> None:
    big = Domain.objects.get(name="big.bench.example")
    root, _ = Admin.objects.get_or_create(username="bench-root", defaults={"role": Admin.Role.SUPERADMIN})
    admin, _ = Admin.objects.get_or_create(username="bench-admin", defaults={"role": Admin.Role.DOMAIN_ADMIN})
    admin.domains.set([big])
    seed_audit()
    for label, user, url in [
        ("aliases, all (superadmin)", root, "/aliases/"),
        ("aliases of the 20,000-mailbox domain", admin, f"/domains/{big.pk}/aliases/"),
        ("alias search (superadmin)", root, "/aliases/?q=alias-user1"),
        ("alias search in the big domain", admin, f"/domains/{big.pk}/aliases/?q=user19"),
        ("alias domains (superadmin)", root, "/alias-domains/"),
        (f"audit log, {AUDIT_ROWS:,} entries (superadmin)", root, "/audit/"),
        ("audit log (domain admin)", admin, "/audit/"),
        ("audit log filtered by actor", root, "/audit/?actor=admin3"),
        ("administrators", root, "/accounts/admins/"),
    ]:
        print(f"{label:45s} {median_ms(user, url):7.1f} ms")


if __name__ == "__main__":
    main()
