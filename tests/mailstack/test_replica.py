"""Mail keeps resolving when the primary database is lost: Postfix and Dovecot read from a
streaming replica too (mailconfig --db-host replica,primary), quota writes find the primary,
and the panel, which needs the primary, answers 503 until it returns."""
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from domains.mailstack import POSTFIX_MAPS
from tests.mailstack.harness import open_leg, start_mail_stack, stop_mail_stack
from tests.ops.live import Browserless, free_port, start_live_panel, stop_live_panel

PASSWORD = "replica-test-mailbox-pw"
ADMIN_PASSWORD = "replica-test-superadmin"
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]


def as_postgres(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True,
                          timeout=120, check=True)


@pytest.mark.django_db
def test_mailconfig_takes_several_hosts_replica_first(tmp_path):
    call_command("mailconfig", vmail_group="vmail", out=str(tmp_path), db_host="replica.internal,primary.internal:5433", db_port=5432,
                 db_name="mail", reader_password="r", quota_password="q", mail_root="/srv/vmail")
    for pmap in POSTFIX_MAPS:
        text = (tmp_path / "postfix" / f"{pmap.name}.cf").read_text()
        assert "hosts = inet:replica.internal:5432 inet:primary.internal:5433" in text
    sql = (tmp_path / "dovecot" / "dovecot-sql.conf.ext").read_text()
    assert "host='replica.internal,primary.internal' port='5432,5433'" in sql and "connect_timeout=3" in sql
    assert "target_session_attrs" not in sql
    dict_conf = (tmp_path / "dovecot" / "dovecot-dict-sql.conf.ext").read_text()
    assert "host='replica.internal,primary.internal' port='5432,5433'" in dict_conf
    assert "target_session_attrs=read-write" in dict_conf
    # One host: the files as before.
    call_command("mailconfig", vmail_group="vmail", out=str(tmp_path / "one"), db_host="db.internal", db_port=5432, db_name="mail",
                 reader_password="r", quota_password="q", mail_root="/srv/vmail")
    assert "target_session_attrs" not in (tmp_path / "one" / "dovecot" / "dovecot-dict-sql.conf.ext").read_text()


@pytest.mark.django_db
@pytest.mark.parametrize("hosts", ["a.internal,", "a.internal,b.internal:port", "a.internal,/run/postgresql",
                                   # A blank adds a host to Postfix's list; quotes and = reach libpq.
                                   "a.internal inet:evil.example:5432", "a.internal\tevil.example",
                                   "db'x.internal", "db=x", "host=evil", "a.internal:0", "a.internal:70000",
                                   "[a.internal]:5432", "[::1]:port", "[::1", "-db.internal"])
def test_mailconfig_refuses_bad_host_lists(tmp_path, hosts):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("mailconfig", vmail_group="vmail", out=str(tmp_path), db_host=hosts, reader_password="r", quota_password="q")


@pytest.mark.django_db
def test_mailconfig_takes_ipv6_hosts_with_and_without_a_port(tmp_path):
    call_command("mailconfig", vmail_group="vmail", out=str(tmp_path), db_host="[2001:db8::5]:5433,::1", db_port=5432,
                 db_name="mail", reader_password="r", quota_password="q", mail_root="/srv/vmail")
    # Postfix splits inet:host:port at the last colon and hands the host to libpq unbracketed.
    assert "hosts = inet:2001:db8::5:5433 inet:::1:5432" in (tmp_path / "postfix" / f"{POSTFIX_MAPS[0].name}.cf").read_text()
    assert "host='2001:db8::5,::1' port='5433,5432'" in (tmp_path / "dovecot" / "dovecot-sql.conf.ext").read_text()


@pytest.mark.django_db
def test_mailconfig_for_dovecot_24_puts_a_host_list_in_one_pgsql_block(tmp_path):
    call_command("mailconfig", vmail_group="vmail", out=str(tmp_path), db_host="db.internal:5433", db_port=5432, db_name="mail",
                 reader_password="r", quota_password="q", mail_root="/srv/vmail", dovecot_version="2.4")
    snippet = next((tmp_path / "dovecot").glob("*snippet*")).read_text()
    assert 'pgsql "db.internal" {' in snippet and "port = 5433" in snippet and "db.internal:5433" not in snippet
    assert "target_session_attrs" not in snippet and "connect_timeout" not in snippet
    # Several hosts: one block each for reads and for the quota dict (several blocks would be
    # balanced, sending writes to a replica); libpq gets the lists, the writer the primary.
    call_command("mailconfig", vmail_group="vmail", out=str(tmp_path / "two"), db_host="replica.internal,primary.internal:5433",
                 db_port=5432, reader_password="r", quota_password="q", dovecot_version="2.4")
    snippet = next((tmp_path / "two" / "dovecot").glob("*snippet*")).read_text()
    # Four blocks: passdb/userdb, and the quota, Sieve and last-login dicts, which share one
    # connection's settings (the quota role, the primary; docs/mailstack.md, "Vacation replies").
    assert snippet.count('pgsql "replica.internal" {') == 4 and "primary.internal {" not in snippet
    assert snippet.count('host = "replica.internal,primary.internal"') == 4
    assert snippet.count('port = "5432,5433"') == 4 and snippet.count("connect_timeout = 3") == 4
    assert snippet.count("target_session_attrs = read-write") == 3


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def eventually(check, timeout: float = 30.0):
    """The first truthy result of check() within `timeout` seconds (clients reconnect)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (RuntimeError, OSError) as error:  # postmap's temporary failure, a refused socket
            result = None
            last = error
        else:
            last = result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still failing after {timeout}s: {last!r}")
        time.sleep(0.5)


@pytest.fixture
def primary_and_replica():
    """A panel on its own primary cluster, and a streaming replica of it (pg_basebackup -R)."""
    panel = start_live_panel()
    replica_dir = Path(tempfile.mkdtemp(prefix="mailadmin-replica-", dir="/tmp"))
    replica_dir.chmod(0o755)
    shutil.chown(replica_dir, "postgres", "postgres")
    replica_port = free_port()
    primary_port = int(panel.database_url.rsplit(":", 1)[1].split("/")[0])
    try:
        as_postgres(str(PG_BIN / "pg_basebackup"), "-h", str(panel.pg_dir), "-p", str(primary_port), "-U", "postgres",
                    "-D", str(replica_dir / "data"), "-R", "-X", "stream")
        with open(replica_dir / "data" / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {replica_port}\nunix_socket_directories = '{replica_dir}'\nhot_standby = on\n")
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(replica_dir / "data"), "-l", str(replica_dir / "postgres.log"),
                    "-w", "-t", "60", "start")
        yield panel, primary_port, replica_port
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(replica_dir / "data"),
                        "-m", "fast", "stop"], capture_output=True, timeout=60)
        stop_live_panel(panel)
        shutil.rmtree(replica_dir, ignore_errors=True)


@pytest.mark.parametrize("leg", ["debian12", "debian13"])
def test_lookups_and_logins_survive_the_primary(primary_and_replica, leg):
    panel, primary_port, replica_port = primary_and_replica
    assert panel.manage("domain", "add", "ha.example").returncode == 0
    made = panel.manage("mailbox", "add", "ann@ha.example", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert panel.manage("alias", "add", "info@ha.example", "ann@ha.example").returncode == 0
    made = panel.manage("shell", "-c", "from accounts.services import admin_create; admin_create(username='root',"
                        f" password='{ADMIN_PASSWORD}', role='superadmin', acting_user=None)")
    assert made.returncode == 0, made.stderr
    roles = ("--reader-role", "mailreader_ha", "--reader-password", "reader-ha-pw",
             "--quota-role", "mailquota_ha", "--quota-password", "quota-ha-pw")
    assert panel.manage("dbroles", *roles).returncode == 0
    replica_url = panel.database_url.replace(f":{primary_port}/", f":{replica_port}/")
    eventually(lambda: subprocess.run(["psql", replica_url, "-Atc", "SELECT count(*) FROM mailbox"],
                                      capture_output=True, text=True).stdout.strip() == "1")

    stack_leg = open_leg(leg)

    def configure(config_dir, mail_root, uid, gid):
        written = panel.manage("mailconfig", "--out", str(config_dir), "--db-name", "mailadmin",
                               "--dovecot-version", stack_leg.dovecot_version,
                               "--db-host", f"127.0.0.1:{replica_port},127.0.0.1:{primary_port}", *roles,
                               "--mail-root", str(mail_root), "--uid", str(uid), "--gid", str(gid),
                               "--vmail-group", "vmail")   # the leg's group (gid 5000 may have no name here)
        assert written.returncode == 0, written.stderr

    root = Path(tempfile.mkdtemp(prefix="mailadmin-ha-stack-", dir="/tmp"))
    root.chmod(0o755)
    stack = start_mail_stack(root, {"NAME": "mailadmin"}, stack_leg, configure=configure)
    client = Browserless(panel.url)
    client.login("root", ADMIN_PASSWORD)
    try:
        def answers() -> bool:
            return (stack.postmap("virtual_mailbox_maps", "ann@ha.example") is not None
                    and stack.postmap("virtual_alias_maps", "info@ha.example") == "ann@ha.example"
                    and stack.auth_test("ann@ha.example", PASSWORD) and stack.imap_login("ann@ha.example", PASSWORD))

        assert eventually(answers)
        assert client.request("GET", "/domains/")[0] == 200

        panel.stop_database()
        try:
            assert status_of(panel.url + "/healthz") == 503
            status, body = client.request("GET", "/domains/")
            assert status == 503 and "cannot reach its database" in body
            # Postfix (random host order) and Dovecot (replica first) answer from the replica.
            for _ in range(5):
                assert eventually(answers, timeout=20)
            assert not stack.auth_test("ann@ha.example", "wrong password")
            assert stack.postmap("virtual_mailbox_maps", "nobody@ha.example") is None
        finally:
            panel.start_database()

        assert eventually(lambda: status_of(panel.url + "/healthz") == 200)
        assert eventually(lambda: client.request("GET", "/domains/")[0] == 200)
        assert eventually(answers)
        # Quota usage is written to the primary (the replica is read-only): deliver, then read it there.
        stack.send("ann@ha.example", subject="after the failover", body="x" * 2000)
        eventually(lambda: int(panel.sql("SELECT bytes FROM quota_usage WHERE username = 'ann@ha.example'")) > 0)
    finally:
        stop_mail_stack(stack)
        if os.environ.get("MAILSTACK_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)
