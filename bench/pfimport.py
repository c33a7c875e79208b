"""Import of a 10,000-mailbox Postfixadmin 2.9x database on MariaDB (target < 60 s).

    bench/run bench/pfimport.py [--domains 20] [--per-domain 500]

Needs the machine's MariaDB (bin/mariadb-test starts it and prints the URL it uses)."""
import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import setup_django  # noqa: E402

setup_django()


def main() -> None:
    from django.core.management import call_command

    from domains.models import Alias, Mailbox
    from tests.pfimport.pfa import mariadb_source, rows

    parser = argparse.ArgumentParser()
    parser.add_argument("--domains", type=int, default=20)
    parser.add_argument("--per-domain", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("PFA_MYSQL_URL", subprocess.run(["bin/mariadb-test"], capture_output=True, text=True,
                                                          check=True).stdout.strip())
    tables, data = rows("2.9", domains=args.domains, mailboxes_per_domain=args.per_domain)
    print(f"source: {len(tables['mailbox'])} mailboxes, {len(tables['alias'])} aliases, "
          f"{len(tables['quota2'])} quota2 rows")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with mariadb_source("2.9", tables) as url:
        start = time.perf_counter()
        call_command("import_postfixadmin", url, stdout=io.StringIO())
        elapsed = time.perf_counter() - start
        print(f"imported {Mailbox.objects.count()} mailboxes, {Alias.objects.count()} aliases "
              f"in {elapsed:.1f} s (target < 60 s)")
        # The re-run before the switch-over: everything present, every row compared.
        start = time.perf_counter()
        call_command("import_postfixadmin", url, stdout=io.StringIO())
        print(f"re-run on the unchanged source: {time.perf_counter() - start:.1f} s")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
