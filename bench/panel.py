"""Admin pages at 1,000 domains and 100,000 mailboxes (server time, in-process client).

    bench/run bench/panel.py [--runs 50]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import SeededSite, measure, setup_django  # noqa: E402

setup_django()


def main() -> None:
    site = SeededSite()
    big, runs = site.big, site.runs
    measure("domain list (1,000 domains, first page)", lambda: site.get("/domains/"), runs)
    measure("domain list, search 'bench-05'", lambda: site.get("/domains/?q=bench-05"), runs)
    measure(f"mailbox list of {site.big_domain} (20,000), first page", lambda: site.get(f"/domains/{big}/mailboxes/"), runs)
    measure("  ... search 'user1234' (htmx partial)",
            lambda: site.get(f"/domains/{big}/mailboxes/?q=user1234", HX_Request="true", HX_Target="mailbox-table"),
            runs)
    measure("global mailbox list (100,000), first page", lambda: site.get("/mailboxes/"), runs)
    measure("global mailbox search 'user1234'", lambda: site.get("/mailboxes/?q=user1234"), runs)
    measure("dashboard (superadmin, 100,000 mailboxes)", lambda: site.get("/"), runs)
    from django.core.cache import cache

    # The totals are cached for 30 s; this is the request that computes them.
    measure("  ... totals not cached", lambda: (cache.clear(), site.get("/")), runs)


if __name__ == "__main__":
    main()
