"""Load run: wrk against gunicorn on loopback, logged in as a superadmin, at 100,000 mailboxes.

    python bench/load.py [--seconds 10] [--connections 16] [--workers 4] [--profile LABEL] [--baseline DIR]

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
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ops.live import Browserless, free_port, start_live_panel, stop_live_panel  # noqa: E402

PASSWORD = "load-test-superadmin"


def wrk(url: str, cookie: str, args) -> dict[str, str]:
    result = subprocess.run(["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s",
                             "--latency", "-H", f"Cookie: {cookie}", url],
                            capture_output=True, text=True, timeout=args.seconds + 60)
    found = {name: re.search(pattern, result.stdout) for name, pattern in (
        ("rps", r"Requests/sec:\s+([\d.]+)"), ("p50", r"50%\s+([\d.]+\w+)"), ("p99", r"99%\s+([\d.]+\w+)"),
        ("non2xx", r"Non-2xx or 3xx responses: (\d+)"))}
    return {name: match.group(1) if match else ("0" if name == "non2xx" else "?") for name, match in found.items()}


def start_baseline(panel, code: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """gunicorn serving another checkout on the same database (same settings, same sessions)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mailadmin.wsgi", "--config", str(code / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4"],
        cwd=code, env=dict(panel.env, PYTHONPATH=str(code)), stdout=open(panel.pg_dir / "baseline.log", "wb"),
        stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the baseline gunicorn did not come up")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--profile", default="", metavar="LABEL",
                        help="sample the workers with py-spy during the pages whose label contains this")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout served on the same database; each page is loaded on this "
                             "checkout and the baseline in turn, twice, so that machine noise hits both")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    panel = start_live_panel(workers=args.workers)
    baseline = None
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
        servers = [("this", panel.url, panel.process.pid)]
        if args.baseline:
            baseline, url = start_baseline(panel, args.baseline.resolve(), args.workers)
            servers = servers * 2
            servers[1:1] = [("baseline", url, baseline.pid)]
            servers.append(("baseline", url, baseline.pid))
        print(f"wrk: {args.connections} connections, {args.seconds} s per run; gunicorn {args.workers} workers x 4 threads")
        for label, path in [("dashboard", "/"), ("mailbox list, 20,000-mailbox domain", f"/domains/{big}/mailboxes/"),
                            ("global mailbox list, 100,000", "/mailboxes/"), ("healthz", "/healthz")]:
            for name, url, pid in servers:
                profile = None
                if args.profile and args.profile in label:
                    stacks = panel.pg_dir / f"stacks-{name}.txt"
                    profile = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses",
                                                "--pid", str(pid), "--format", "raw", "--rate", "200",
                                                "--duration", str(args.seconds), "--output", str(stacks), "--nonblocking"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                r = wrk(url + path, cookie, args)
                print(f"{label:38} {name:9} {r['rps']:>8} req/s   p50 {r['p50']:>8}   p99 {r['p99']:>8}"
                      f"   non-2xx {r['non2xx']}", flush=True)
                if r["non2xx"] != "0":
                    print("  gunicorn log tail:", (panel.pg_dir / "gunicorn.log").read_text()[-1500:])
                if profile is not None:
                    profile.wait(60)
                    print_profile(stacks.read_text())
    finally:
        if baseline is not None:
            baseline.terminate()
            baseline.wait(20)
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
