"""Load run: wrk against gunicorn on loopback, logged in as a superadmin, at 100,000 mailboxes.

    python bench/load.py [--seconds 10] [--connections 16] [--workers 4] [--profile LABEL]

Starts its own PostgreSQL cluster and gunicorn (tests/ops/live.py), seeds bench/seed.py,
then runs wrk (Debian's package; installed here if missing) for a bounded time per page.

`--profile LABEL` also samples the gunicorn workers with py-spy (`pip install py-spy`) while
wrk loads the pages whose label contains LABEL, and says where their time goes: waiting on
PostgreSQL (psycopg), template rendering, middleware, the view's own Python.
"""
from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ops.live import Browserless, start_live_panel, stop_live_panel  # noqa: E402

PASSWORD = "load-test-superadmin"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--profile", default="", metavar="LABEL",
                        help="sample the workers with py-spy during the pages whose label contains this")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    panel = start_live_panel(workers=args.workers)
    try:
        seeded = panel.manage("shell", "-c", "from bench.seed import seed; print(seed(1000, 100_000, 20_000, force=True))")
        print("seeded:", seeded.stdout.strip() or seeded.stderr[-500:])
        made = panel.manage("shell", "-c", "from accounts.services import admin_create;"
                            f"admin_create(username='load', password='{PASSWORD}', role='superadmin', acting_user=None)")
        assert made.returncode == 0, made.stderr
        client = Browserless(panel.url)
        client.login("load", PASSWORD)
        cookie = "; ".join(f"{c.name}={c.value}" for c in client.jar)
        big = panel.sql("SELECT id FROM domain WHERE name = 'big.bench.example'")
        for label, path in [("dashboard", "/"), ("mailbox list, 20,000-mailbox domain", f"/domains/{big}/mailboxes/"),
                            ("global mailbox list, 100,000", "/mailboxes/"), ("healthz", "/healthz")]:
            profile = None
            if args.profile and args.profile in label:
                stacks = panel.pg_dir / "stacks.txt"
                profile = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses",
                                            "--pid", str(panel.process.pid), "--format", "raw", "--rate", "200",
                                            "--duration", str(args.seconds), "--output", str(stacks), "--nonblocking"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result = subprocess.run(["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s",
                                     "--latency", "-H", f"Cookie: {cookie}", panel.url + path],
                                    capture_output=True, text=True, timeout=args.seconds + 60)
            rps = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
            p50 = re.search(r"50%\s+([\d.]+\w+)", result.stdout)
            p99 = re.search(r"99%\s+([\d.]+\w+)", result.stdout)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
            print(f"{label:40} {rps.group(1) if rps else '?':>8} req/s   p50 {p50.group(1) if p50 else '?':>8}"
                  f"   p99 {p99.group(1) if p99 else '?':>8}   non-2xx {non2xx.group(1) if non2xx else 0}")
            if non2xx:
                print("  gunicorn log tail:", (panel.pg_dir / "gunicorn.log").read_text()[-1500:])
            if profile is not None:
                profile.wait(60)
                print_profile(stacks.read_text())
    finally:
        stop_live_panel(panel)


# Where a sample is spent: the first phase below that has a frame on the stack (a view's
# stack also holds the middleware that called it) and whether the thread was in the
# database driver at that moment.
PHASES = [
    ("template rendering", re.compile(r"django/template/(base|loader_tags|defaulttags)|template_partials/")),
    ("view", re.compile(r"\((domains|quota|audit|accounts|dnscheck|ops|twofactor)/(?!middleware)\w+\.py")),
    ("middleware", re.compile(r"middleware")),
    ("gunicorn: socket I/O and HTTP parsing", re.compile(r"gunicorn/")),
]
SQL = re.compile(r"\(psycopg/|django/db/backends/")


def print_profile(raw: str) -> None:
    """Summarise py-spy's collapsed stacks ("frame;frame;... count" lines): the share of
    samples per request phase, split into time in the database driver and Python."""
    totals: collections.Counter[tuple[str, bool]] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        phase = next((name for name, pattern in PHASES for frame in frames if pattern.search(frame)), "other")
        totals[phase, any(SQL.search(frame) for frame in frames)] += int(count)
    total = sum(totals.values()) or 1
    print(f"  py-spy: {total} samples of busy worker threads ")
    for (phase, sql), count in totals.most_common():
        print(f"    {count / total:6.1%}  {phase}{' - in the database driver (SQL)' if sql else ' - Python'}")


if __name__ == "__main__":
    main()
