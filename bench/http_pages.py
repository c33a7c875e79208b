"""The panel as an admin feels it: over HTTP, behind gunicorn with production settings.

(Named http_pages.py, not http.py: run as `python bench/X.py`, the bench/ folder comes first on
sys.path, and a bench/http.py would hide the standard library's `http` from every bench script.)

    python bench/http_pages.py [--runs 20] [--warmup 3] [--workers 2] [--baseline DIR] [--only LABEL]

Starts a private PostgreSQL cluster, migrates, seeds bench/seed.py (1,000 domains, 100,000
mailboxes, 20,000 of them in big.bench.example) and 200,000 audit entries, then serves the
panel with gunicorn (gunicorn.conf.py, `mailadmin.settings`, DJANGO_DEBUG=0, collected static
files) on a loopback port. It logs in through the real login form, then times each main page
the way other panels are measured: warm-up requests, then sequential timed requests, each on
a new TCP connection, checking the status and a marker in the body. Requests carry
`X-Forwarded-Proto: https`, as the TLS-terminating proxy of docs/deploy.md sends them.

`--baseline DIR` serves another checkout (e.g. `git archive main | tar -x -C /tmp/base`) as
well, on the same database, and alternates every request between the two: on a busy machine
the noise then hits the before and after figures alike. Prints min, median and
p95 in milliseconds and the body size in bytes, and the gunicorn workers' resident memory
(VmRSS before the CSV export, and VmHWM, the peak, reset before the export and read after it).

Superadmin TOTP is turned off (MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS=0): the 2FA step is one
extra request at login, not part of any page.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import http.cookies
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "http-bench-superadmin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One new HTTP/1.1 connection per request, cookies kept by hand (they are Secure)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            sent = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", "Connection": "close",
                    "User-Agent": "mailadmin-bench-http", **(headers or {})}
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie(header)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
            return response.status, data, dict(response.headers)
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        status, page, _ = self.request("GET", "/accounts/login/")
        assert status == 200, f"login page answered {status}"
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username,
                                       "password": password}).encode()
        status, _, headers = self.request("POST", "/accounts/login/", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://127.0.0.1:{self.port}/accounts/login/"})
        assert status == 302 and "sessionid" in self.cookies, f"login failed: {status} {headers}"


def run(cmd: list[str], env: dict, cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def pages(ids: dict[str, str]) -> list[tuple[str, str, bytes]]:
    """(label, path, marker) for each page; the marker proves the page has its rows."""
    big = ids["big"]
    return [
        ("domain list", "/domains/", b"bench-0002.example"),
        ("domain search", "/domains/?q=bench-05", b"bench-0500.example"),
        ("mailboxes of the 20,000-mailbox domain", f"/domains/{big}/mailboxes/", b"@big.bench.example"),
        ("... search in it", f"/domains/{big}/mailboxes/?q=user1999", b"user1999@big.bench.example"),
        ("global mailbox list (100,000)", "/mailboxes/", b"@"),
        ("... global search", "/mailboxes/?q=user4242", b"user4242@"),
        ("alias list", "/aliases/", b"user1@big.bench.example"),
        ("quota, fullest first", "/quota/?sort=fullest", b"@"),
        ("quota, over 90 % in the big domain", f"/quota/?filter=90&domain={big}", b"@big.bench.example"),
        ("audit log (200,000 entries)", "/audit/", b"alias.update"),
        ("dashboard", "/", b"big.bench.example"),
        ("quota CSV, all 100,000 rows", "/quota/export.csv", b"user100000@"),
        # The explainer (domains/route_views.py): a mailbox, an alias, an address through an
        # alias domain, an unknown address a catch-all takes (bench/seed.py's rows).
        ("route: a mailbox", "/route/?address=user2%40big.bench.example", b"user2@big.bench.example"),
        ("route: an alias", "/route/?address=alias-user5%40big.bench.example", b"external5@elsewhere.example"),
        ("route: name@alias-domain", "/route/?address=user3%40alias-of-big.bench.example",
         b"user3@big.bench.example"),
        ("route: unknown, to the catch-all", "/route/?address=nobody%40bench-0010.example",
         b"user1@big.bench.example"),
    ]


class Panel:
    """One gunicorn serving one checkout, with a logged-in client."""

    def __init__(self, code: Path, env: dict, workers: int, log: Path, threads: int | None = None):
        self.code = code
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "mailadmin.wsgi", "--config", str(code / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             *(["--threads", str(threads)] if threads else [])],
            cwd=code, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
        self.client = Client(self.port)
        for _ in range(300):
            try:
                if self.client.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not come up:\n" + log.read_text()[-3000:])
        self.client.login("bench", PASSWORD)
        self.commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip() or "?"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def get(panel: Panel, label: str, path: str, marker: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    status, body, _ = panel.client.request("GET", path)
    elapsed = (time.perf_counter() - start) * 1000
    assert status == 200, f"{label}: {path} answered {status} ({panel.code})"
    assert marker in body, f"{label}: {path} lacks {marker!r} ({panel.code})"
    return elapsed, len(body)


def summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    return ordered[0], statistics.median(ordered), ordered[min(len(ordered) - 1, round(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout (e.g. main's) served too, on the same database; requests "
                             "alternate between the two, so that machine noise hits both alike")
    parser.add_argument("--only", default="", help="measure only pages whose label contains this")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # still stop gunicorn and PostgreSQL
    codes = [ROOT] + ([args.baseline.resolve()] if args.baseline else [])
    with seeded_panels(codes, args.workers) as (panels, ids):
        names = ["this", "baseline"][:len(panels)]
        print(f"gunicorn {args.workers} workers each, {args.warmup} warm-up + {args.runs} timed requests per page,"
              " a new connection each" + (", alternating between the two checkouts" if len(panels) > 1 else ""))
        for name, panel in zip(names, panels):
            print(f"  {name}: {panel.code} ({panel.commit})")
        head = "".join(f" | {name + ' min':>13} {'median':>8} {'p95':>8} {'bytes':>10}" for name in names)
        print(f"{'page':40}{head}")
        for label, path, marker in pages(ids):
            if args.only and args.only not in label:
                continue
            csv = "CSV" in label
            if csv:
                rss = [{pid: memory_kib(pid, "VmRSS") for pid in worker_pids(p.process.pid)} for p in panels]
                for pid in (pid for p in panels for pid in worker_pids(p.process.pid)):
                    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS: the peak is the CSV's
            times: list[list[float]] = [[] for _ in panels]
            sizes = [0] * len(panels)
            for i in range(args.warmup + args.runs):
                for n, panel in enumerate(panels):
                    elapsed, sizes[n] = get(panel, label, path, marker)
                    if i >= args.warmup:
                        times[n].append(elapsed)
            cells = "".join(" | {:13.1f} {:8.1f} {:8.1f} {:10,}".format(*summary(t), b) for t, b in zip(times, sizes))
            print(f"{label:40}{cells}", flush=True)
            if csv:
                for name, panel, before in zip(names, panels, rss):
                    peak = [memory_kib(pid, "VmHWM") // 1024 for pid in worker_pids(panel.process.pid)]
                    print(f"  {name}: workers' RSS before the CSV runs {sorted(v // 1024 for v in before.values())}"
                          f" MiB, peak (VmHWM) after {sorted(peak)} MiB")


@contextlib.contextmanager
def seeded_panels(codes: list[Path], workers: int, threads: int | None = None):
    """A private PostgreSQL cluster, migrated and seeded (bench/seed.py: 1,000 domains, 100,000
    mailboxes, 20,000 in big.bench.example; 200,000 audit entries; the superadmin `bench`), and
    one gunicorn per checkout in `codes` (production settings, collected static files), each with
    a logged-in Client. Yields (panels, {"big": pk of big.bench.example}); stops everything after."""
    pg_dir = Path(tempfile.mkdtemp(prefix="mailadmin-http-bench-", dir="/tmp"))
    pg_dir.chmod(0o755)
    database_url = run([str(ROOT / "bin" / "pg-cluster"), "start", str(pg_dir), str(free_port())],
                       dict(os.environ, PG_FSYNC="off"), ROOT).strip()
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="mailadmin.settings",
               DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
               DJANGO_ALLOWED_HOSTS="127.0.0.1", MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS="0",
               MAILADMIN_LOG_FORMAT="plain", GUNICORN_ACCESS_LOG="")
    envs = [dict(env, PYTHONPATH=str(code), MAILADMIN_STATIC_ROOT=str(pg_dir / f"static{n}"))
            for n, code in enumerate(codes)]
    panels: list[Panel] = []
    try:
        python = sys.executable
        # This checkout's schema: the newest (a baseline without its migrations serves it too).
        run([python, "manage.py", "migrate", "--no-input", "-v", "0"], envs[0], ROOT)
        print("seeded:", run([python, "-c", "from bench.seed import seed; print(seed(1000, 100_000, 20_000))"],
                             envs[0], ROOT).strip(), flush=True)
        run([python, "-c", "from bench.part_b_pages import seed_audit; seed_audit()"], envs[0], ROOT)
        run([python, "manage.py", "shell", "-c", "from accounts.services import admin_create; "
             f"admin_create(username='bench', password='{PASSWORD}', role='superadmin', acting_user=None)"],
            envs[0], ROOT)
        run(["psql", database_url, "-q", "-c", "VACUUM ANALYZE"], env, ROOT)
        ids = {"big": run(["psql", database_url, "-At", "-c",
                           "SELECT id FROM domain WHERE name = 'big.bench.example'"], env, ROOT).strip()}
        for n, code in enumerate(codes):
            run([python, "manage.py", "collectstatic", "--no-input", "-v", "0"], envs[n], code)
            panels.append(Panel(code, envs[n], workers, pg_dir / f"gunicorn{n}.log", threads))
        yield panels, ids
    finally:
        for panel in panels:
            panel.stop()
        subprocess.run([str(ROOT / "bin" / "pg-cluster"), "stop", str(pg_dir)], capture_output=True, timeout=60)
        shutil.rmtree(pg_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
