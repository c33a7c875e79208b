"""Load run: wrk against gunicorn on loopback, logged in as a superadmin, at 100,000 mailboxes.

    python bench/load.py [--seconds 10] [--connections 16] [--workers 4] [--profile LABEL] [--baseline DIR]

Serves the panel as bench/http_pages.py does (its own PostgreSQL cluster seeded by
bench/seed.py, gunicorn with production settings: `mailadmin.settings`, the database cache
and sessions every node shares), with `--workers` workers of 4 threads, then runs wrk (Debian's
package; installed here if missing) for a bounded time per page.

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
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_pages import seeded_panels  # noqa: E402


def wrk(url: str, cookie: str, args) -> dict[str, str]:
    # X-Forwarded-Proto: as the TLS-terminating proxy of docs/deploy.md sends it.
    result = subprocess.run(["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s",
                             "--latency", "-H", f"Cookie: {cookie}", "-H", "X-Forwarded-Proto: https", url],
                            capture_output=True, text=True, timeout=args.seconds + 60)
    found = {name: re.search(pattern, result.stdout) for name, pattern in (
        ("rps", r"Requests/sec:\s+([\d.]+)"), ("p50", r"50%\s+([\d.]+\w+)"), ("p99", r"99%\s+([\d.]+\w+)"),
        ("non2xx", r"Non-2xx or 3xx responses: (\d+)"))}
    return {name: match.group(1) if match else ("0" if name == "non2xx" else "?") for name, match in found.items()}


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
    codes = [ROOT] + ([args.baseline.resolve()] if args.baseline else [])
    with seeded_panels(codes, args.workers, threads=4) as (panels, ids):
        servers = [("this", panels[0])]
        if args.baseline:
            servers = [("this", panels[0]), ("baseline", panels[1])] * 2
        print(f"wrk: {args.connections} connections, {args.seconds} s per run; gunicorn {args.workers} workers x 4 threads")
        for name, panel in servers[:2]:
            print(f"  {name}: {panel.code} ({panel.commit})")
        for label, path in [("dashboard", "/"), ("mailbox list, 20,000-mailbox domain", f"/domains/{ids['big']}/mailboxes/"),
                            ("global mailbox list, 100,000", "/mailboxes/"), ("healthz, logged in", "/healthz")]:
            for name, panel in servers:
                cookie = "; ".join(f"{k}={v}" for k, v in panel.client.cookies.items())
                profile = stacks = None
                if args.profile and args.profile in label:
                    stacks = Path(tempfile.gettempdir()) / f"mailadmin-load-stacks-{panel.port}.txt"
                    profile = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses",
                                                "--pid", str(panel.process.pid), "--format", "raw", "--rate", "200",
                                                "--duration", str(args.seconds), "--output", str(stacks), "--nonblocking",
                                                "--gil"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                r = wrk(f"http://127.0.0.1:{panel.port}{path}", cookie, args)
                print(f"{label:38} {name:9} {r['rps']:>8} req/s   p50 {r['p50']:>8}   p99 {r['p99']:>8}"
                      f"   non-2xx {r['non2xx']}", flush=True)
                if profile is not None:
                    profile.wait(60)
                    print_profile(stacks.read_text())
                    stacks.unlink()


# Where a sample is spent: the first phase below that has a frame on the stack (a view's
# stack also holds the middleware that called it) and whether the thread was in the
# database driver at that moment.
PHASES = [
    # A worker importing Django and the URL configuration on its first request (and again when
    # gunicorn recycles it): gone since gunicorn.conf.py preloads the application.
    ("worker start-up: imports", re.compile(r"<frozen importlib")),
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
    print(f"  py-spy: {total} samples of worker threads holding the GIL (Python's CPU time)")
    for (phase, sql), count in totals.most_common():
        print(f"    {count / total:6.1%}  {phase}{' - in the database driver (SQL)' if sql else ' - Python'}")


if __name__ == "__main__":
    main()
