"""A panel served by a real gunicorn, on its own private PostgreSQL cluster, for tests that
stop the database or hammer the server with parallel requests (never the suite's database)."""
from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LivePanel:
    url: str
    database_url: str
    pg_dir: Path
    env: dict
    process: subprocess.Popen

    def manage(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)

    def sql(self, query: str) -> str:
        return subprocess.run(["psql", self.database_url, "-At", "-c", query], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()

    def stop_database(self) -> None:
        subprocess.run([str(ROOT / "bin" / "pg-cluster"), "stop", str(self.pg_dir)], check=True, timeout=60)

    def start_database(self) -> None:
        port = urllib.parse.urlparse(self.database_url).port
        subprocess.run([str(ROOT / "bin" / "pg-cluster"), "start", str(self.pg_dir), str(port)], check=True,
                       capture_output=True, timeout=60)


class Browserless:
    """Cookie-keeping HTTP client speaking to the panel like a browser without JavaScript."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
            req.add_header("Referer", self.base + path)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def csrf(self, path: str) -> str:
        _status, page = self.request("GET", path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict) -> tuple[int, str]:
        return self.request("POST", path, {"csrfmiddlewaretoken": self.csrf(path), **data})

    def login(self, username: str, password: str) -> None:
        status, _body = self.post_form("/accounts/login/", {"username": username, "password": password})
        assert status == 302, f"login failed with {status}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_live_panel(workers: int = 2) -> LivePanel:
    pg_dir = Path(tempfile.mkdtemp(prefix="mailadmin-live-pg-", dir="/tmp"))
    pg_dir.chmod(0o755)
    port = free_port()
    database_url = subprocess.run([str(ROOT / "bin" / "pg-cluster"), "start", str(pg_dir), str(port)], check=True,
                                  capture_output=True, text=True, timeout=120).stdout.strip()
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="mailadmin.settings_test",
               DATABASE_CONN_MAX_AGE="60", GUNICORN_ACCESS_LOG="", MAILADMIN_LOG_FORMAT="plain")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                   check=True, timeout=300)
    http_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mailadmin.wsgi", "--config", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{http_port}", "--workers", str(workers), "--threads", "4"],
        cwd=ROOT, env=env, stdout=open(pg_dir / "gunicorn.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                break
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("gunicorn did not come up:\n" + (pg_dir / "gunicorn.log").read_text())
    return LivePanel(url=url, database_url=database_url, pg_dir=pg_dir, env=env, process=process)


def stop_live_panel(panel: LivePanel) -> None:
    panel.process.terminate()
    try:
        panel.process.wait(20)
    except subprocess.TimeoutExpired:
        panel.process.kill()
    panel.stop_database()
    shutil.rmtree(panel.pg_dir, ignore_errors=True)
