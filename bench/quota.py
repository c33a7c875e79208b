"""Quota page, domain summary and CSV export at 100,000 mailboxes.

    bench/run bench/quota.py [--runs 50]
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import SeededSite, measure, setup_django  # noqa: E402

setup_django()


def main() -> None:
    site = SeededSite()
    runs = site.runs
    measure("quota page, fullest first, first page (100k)", lambda: site.get("/quota/"), runs)
    measure("quota page, over 95 %", lambda: site.get("/quota/?filter=95"), runs)
    measure("quota page, search 'user1234'", lambda: site.get("/quota/?q=user1234"), runs)
    measure(f"domain summary + charts ({site.big_domain}, 20k)", lambda: site.get(f"/quota/?domain={site.big}"), runs)
    start = time.perf_counter()
    response = site.get("/quota/export.csv")
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    print(f"{'CSV export, all 100,000 rows':55} {time.perf_counter() - start:8.2f} s ({lines - 1} rows)")


if __name__ == "__main__":
    main()
