"""The backup and restore procedure of docs/deploy.md, run for real on a private cluster."""
import glob
import os
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from tests.ops.live import ROOT, free_port

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


@pytest.fixture
def cluster():
    pg_dir = Path(tempfile.mkdtemp(prefix="mailadmin-backup-pg-", dir="/tmp"))
    pg_dir.chmod(0o755)
    url = subprocess.run([str(ROOT / "bin/pg-cluster"), "start", str(pg_dir), str(free_port())], check=True,
                         capture_output=True, text=True, timeout=120).stdout.strip()
    yield url
    subprocess.run([str(ROOT / "bin/pg-cluster"), "stop", str(pg_dir)], timeout=60)
    subprocess.run(["rm", "-rf", str(pg_dir)])


def test_dump_drop_restore_round_trip(cluster, tmp_path):
    env = dict(os.environ, DATABASE_URL=cluster, DJANGO_SETTINGS_MODULE="mailadmin.settings_test")

    def manage(*args, stdin=""):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def psql(db_url, sql):
        return subprocess.run([f"{PG_BIN}/psql", db_url, "-At", "-c", sql], capture_output=True, text=True,
                              check=True).stdout.strip()

    manage("migrate", "--no-input", "-v", "0")
    manage("domain", "add", "backup.example", "--quota", "5G", "--default-quota", "1G")
    manage("mailbox", "add", "kept@backup.example", "--password-stdin", stdin="kept-password\n")
    manage("alias", "add", "team@backup.example", "kept@backup.example", "x@elsewhere.example")
    manage("dbroles", "--reader-password", "r-pw", "--quota-password", "q-pw")
    before = psql(cluster, "SELECT address, password FROM mailbox") + psql(cluster, "SELECT count(*) FROM audit_entry")

    dump = tmp_path / "mailadmin.dump"
    subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", "-f", str(dump), cluster], check=True)
    parts = urllib.parse.urlparse(cluster)
    admin_url = cluster.rsplit("/", 1)[0] + "/postgres"
    psql(admin_url, "DROP DATABASE mailadmin")
    psql(admin_url, "CREATE DATABASE mailadmin OWNER mailadmin")
    assert psql(admin_url, "SELECT count(*) FROM pg_database WHERE datname = 'mailadmin'") == "1"
    subprocess.run([f"{PG_BIN}/pg_restore", "--no-owner", "--role=mailadmin", "-d", cluster, str(dump)], check=True,
                   env=dict(os.environ, PGPASSWORD=parts.password or ""))
    manage("dbroles", "--reader-password", "r-pw", "--quota-password", "q-pw")   # grants, as the doc says

    after = psql(cluster, "SELECT address, password FROM mailbox") + psql(cluster, "SELECT count(*) FROM audit_entry")
    assert after == before
    assert "team@backup.example" in manage("alias", "list")
    reader = cluster.replace("mailadmin:mailadmin@", "mailreader:r-pw@")
    assert psql(reader, "SELECT count(*) FROM mailbox") == "1"
    # The restored schema is the migrated one: triggers included.
    psql(cluster, "UPDATE quota_usage SET bytes = 1073741824 WHERE username = 'kept@backup.example'")
    assert psql(cluster, "SELECT fill_ratio FROM quota_usage") == "1"
    assert "No migrations to apply" in manage("migrate", "--no-input")
