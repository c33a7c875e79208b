"""CSV import of 10,000 rows (8,000 mailboxes, 2,000 aliases) through domains/importing.py,
as `manage.py mailbox import` runs it: the dry run, then the commit in one transaction.

Password hashing is timed apart: argon2id at the configured cost (settings.py defaults,
MAILADMIN_ARGON2_*) is a fixed cost per mailbox that no import code can shorten, so the
commit runs with a stand-in hasher and the real cost is measured on a sample and given per
row and for the file. Run: bench/run bench/import_csv.py [ROWS]
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import setup_django  # noqa: E402

setup_django()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from domains import importing, services  # noqa: E402
from domains.models import Alias, Domain, Mailbox  # noqa: E402
from domains.passwords import hash_password  # noqa: E402

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
HASH_SAMPLE = 50


def csv_text(rows: int) -> str:
    lines = ["type,address,name,quota,password,destinations,active"]
    mailboxes = rows * 8 // 10
    for n in range(mailboxes):
        domain = f"import{n % 10}.example"
        password = "" if n % 2 else f"a long enough passphrase {n}"
        lines.append(f"mailbox,user{n}@{domain},User {n},1G,{password},,yes")
    for n in range(rows - mailboxes):
        domain = f"import{n % 10}.example"
        lines.append(f"alias,list{n}@{domain},,,,user{n}@{domain} user{n + 1}@{domain},yes")
    return "\n".join(lines) + "\n"


def main() -> None:
    # The production cost, not the test settings' cheap one.
    settings.MAILBOX_ARGON2_TIME_COST = 2
    settings.MAILBOX_ARGON2_MEMORY_KIB = 19 * 1024
    settings.MAILBOX_ARGON2_PARALLELISM = 1
    Mailbox.objects.filter(domain__name__startswith="import").delete()
    Alias.objects.filter(domain__name__startswith="import").delete()
    Domain.objects.filter(name__startswith="import").delete()
    for n in range(10):
        services.domain_create(name=f"import{n}.example", acting_user=None)
    text = csv_text(ROWS)
    scope = Domain.objects.all()
    print(f"{ROWS} rows, {len(text) / 1024:.0f} KiB")

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    start = time.perf_counter()
    rows = importing.read_rows(text)
    with CaptureQueriesContext(connection) as queries:
        dry = importing.import_rows(rows, acting_user=None, domain_scope=scope, dry_run=True)
    dry_s = time.perf_counter() - start
    assert not dry.errors, dry.errors[:3]
    print(f"dry run (no hashing: nothing is stored)        {dry_s:7.1f} s   "
          f"{len(queries)} queries ({len(queries) / ROWS:.2f} per row)")

    samples = []
    for n in range(HASH_SAMPLE):
        t = time.perf_counter()
        hash_password(f"sample password {n}")
        samples.append(time.perf_counter() - t)
    per_hash = statistics.median(samples)
    mailboxes = sum(1 for r in rows if r["type"] == "mailbox")

    # The commit, with hashing stood in for (measured above, added below).
    services.hash_password = lambda password: "{ARGON2ID}bench-stand-in"
    start = time.perf_counter()
    done = importing.import_rows(importing.read_rows(text), acting_user=None, domain_scope=scope, dry_run=False)
    commit_s = time.perf_counter() - start
    assert done.committed and Mailbox.objects.filter(domain__name__startswith="import").count() == mailboxes
    print(f"commit, one transaction, excluding hashing     {commit_s:7.1f} s")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"argon2id t={settings.MAILBOX_ARGON2_TIME_COST} m={settings.MAILBOX_ARGON2_MEMORY_KIB} KiB: "
          f"{per_hash * 1000:.0f} ms per mailbox (median of {HASH_SAMPLE}), "
          f"{per_hash * mailboxes:.0f} s for the {mailboxes} mailboxes")


if __name__ == "__main__":
    main()
