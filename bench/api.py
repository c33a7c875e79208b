"""REST API list endpoints at 1,000 domains and 100,000 mailboxes (server time, in-process client,
with the token authentication and the per-token throttle of every real request).

    bench/run bench/api.py [--runs 50]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import SeededSite, measure, setup_django  # noqa: E402

setup_django()


def main() -> None:
    from accounts.models import Admin
    from api.services import token_create
    from domains.models import Domain

    site = SeededSite()
    big, runs = site.big, site.runs
    superadmin = Admin.objects.get(username="bench-superadmin")
    domain_admin, _ = Admin.objects.get_or_create(username="bench-domain-admin", defaults={"role": "domain_admin"})
    domain_admin.domains.set([Domain.objects.get(pk=big)])
    tokens = {who: token_create(admin=admin, name=f"bench-{who}", expires_in_days=7, acting_user=admin)[1]
              for who, admin in (("superadmin", superadmin), ("domain admin", domain_admin))}

    def get(who: str, url: str):
        return lambda: site.get(url, Authorization=f"Bearer {tokens[who]}")

    results = [
        measure("API domains (1,000), first page", get("superadmin", "/api/v1/domains"), runs),
        measure("API domains, q=bench-05", get("superadmin", "/api/v1/domains?q=bench-05"), runs),
        measure("API mailboxes (100,000), first page", get("superadmin", "/api/v1/mailboxes"), runs),
        measure("API mailboxes, q=user1234", get("superadmin", "/api/v1/mailboxes?q=user1234"), runs),
        measure(f"API mailboxes of {site.big_domain} (20,000)", get("superadmin", f"/api/v1/mailboxes?domain={big}"), runs),
        measure("  ... as its domain admin", get("domain admin", "/api/v1/mailboxes"), runs),
        measure("API mailboxes, page 400", get("superadmin", "/api/v1/mailboxes?page=400"), runs),
        measure("API aliases (20,000), first page", get("superadmin", "/api/v1/aliases"), runs),
        measure("API alias domains, first page", get("superadmin", "/api/v1/alias-domains"), runs),
        measure("API quota usage (100,000), fullest first", get("superadmin", "/api/v1/quota"), runs),
        measure("API quota usage over 90 %", get("superadmin", "/api/v1/quota?filter=90"), runs),
        measure("API audit log, first page", get("superadmin", "/api/v1/audit"), runs),
        measure("API admins, first page", get("superadmin", "/api/v1/admins"), runs),
    ]
    # The same lists as HTML pages (session, no token), measured alongside: on a loaded machine
    # the absolute figures drift, the difference between the two does not.
    measure("panel page /domains/ (reference)", lambda: site.get("/domains/"), runs)
    measure("panel page /mailboxes/ (reference)", lambda: site.get("/mailboxes/"), runs)
    measure("panel page /quota/ (reference)", lambda: site.get("/quota/"), runs)
    worst = max(r["median_ms"] for r in results)
    print(f"worst median: {worst:.2f} ms (target < 30 ms)")


if __name__ == "__main__":
    main()
