"""What `manage.py mailconfig` and `dbroles` produce, checked without the servers."""
import stat

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from domains.mailstack import POSTFIX_MAPS

pytestmark = pytest.mark.django_db


def test_mailconfig_writes_every_file_with_modes(tmp_path):
    call_command("mailconfig", out=str(tmp_path), db_host="db.internal", db_port=5433, db_name="mail",
                 reader_password="r'pw", quota_password="q pw", mail_root="/srv/vmail", uid=5000, gid=5000,
                 dovecot_version="2.3")
    postfix, dovecot = tmp_path / "postfix", tmp_path / "dovecot"
    for pmap in POSTFIX_MAPS:
        path = postfix / f"{pmap.name}.cf"
        text = path.read_text()
        assert "hosts = inet:db.internal:5433" in text and "dbname = mail" in text
        assert f"query = {pmap.query}" in text
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    snippet = (postfix / "main.cf.snippet").read_text()
    # Disabled addresses first: they must stop before a forwarding or the catch-all applies.
    assert (f"virtual_alias_maps = proxy:pgsql:{postfix}/disabled_recipient_maps.cf, "
            f"proxy:pgsql:{postfix}/virtual_alias_maps.cf, ") in snippet
    assert f"smtpd_recipient_restrictions = check_recipient_access proxy:pgsql:{postfix}/recipient_access.cf" in snippet
    # Additive to the stock main.cf: never proxy_read_maps (Postfix's default allows our maps).
    assert not any(line.startswith("proxy_read_maps") for line in snippet.splitlines())
    assert stat.S_IMODE((postfix / "main.cf.snippet").stat().st_mode) == 0o644
    sql = (dovecot / "dovecot-sql.conf.ext").read_text()
    assert "driver = pgsql" in sql and "'/srv/vmail/' || m.maildir AS home" in sql
    assert "password='r\\'pw'" in sql and "user='mailreader'" in sql
    dict_conf = (dovecot / "dovecot-dict-sql.conf.ext").read_text()
    assert "user='mailquota'" in dict_conf and "password='q pw'" in dict_conf
    assert "pattern = priv/quota/messages" in dict_conf
    assert stat.S_IMODE((dovecot / "dovecot-sql.conf.ext").stat().st_mode) == 0o640
    conf = (dovecot / "conf.snippet").read_text()
    assert f"args = {dovecot}/dovecot-sql.conf.ext" in conf
    assert f"quota = pgsql:{dovecot}/dovecot-dict-sql.conf.ext" in conf


def test_mailconfig_refuses_bad_options(tmp_path):
    with pytest.raises(CommandError, match="absolute"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b", mail_root="vmail")
    with pytest.raises(CommandError, match="unix socket"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b",
                     db_host="/var/run/postgresql")
    with pytest.raises(CommandError, match="line breaks"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a\nquery = DROP", quota_password="b")
    # The quota password and the mail root reach only Dovecot's files (review of issue 11, item 9).
    with pytest.raises(CommandError, match="line breaks"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a",
                     quota_password="b'\nmap {\n  pattern = priv/quota/storage")
    with pytest.raises(CommandError, match="line breaks"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b",
                     mail_root="/srv/vmail\nuser_query = SELECT 1")
    with pytest.raises(CommandError, match="quotes"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b",
                     mail_root="/srv/v'||(SELECT password FROM mailbox LIMIT 1)||'")


@pytest.mark.django_db(transaction=True)
def test_dbroles_least_privilege_and_idempotent():
    for _ in range(2):
        call_command("dbroles", reader_role="reader_t", reader_password="pw-r", quota_role="quota_t",
                     quota_password="pw-q")
    db = connection.settings_dict

    def connect(user, password):
        return psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=user, password=password,
                               autocommit=True)

    with connect("reader_t", "pw-r") as reader:
        for table in ("domain", "mailbox", "alias", "alias_domain"):
            reader.execute(f"SELECT count(*) FROM {table}").fetchone()
        for statement in ("SELECT count(*) FROM quota_usage", "SELECT count(*) FROM admin",
                          "SELECT count(*) FROM audit_entry", "DELETE FROM mailbox",
                          "INSERT INTO domain (name) VALUES ('x.example')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
    with connect("quota_t", "pw-q") as quota:
        quota.execute("SELECT count(*) FROM quota_usage").fetchone()
        quota.execute("UPDATE quota_usage SET bytes = bytes")
        for statement in ("SELECT count(*) FROM mailbox", "UPDATE mailbox SET active = true"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                quota.execute(statement)
    with pytest.raises(psycopg.OperationalError):
        connect("reader_t", "wrong password")
    with pytest.raises(CommandError, match="must differ"):
        call_command("dbroles", reader_role="same", reader_password="a", quota_role="same", quota_password="b")


def test_mailconfig_for_dovecot_24_writes_one_secret_include(tmp_path):
    call_command("mailconfig", out=str(tmp_path), db_host="db.internal", db_port=5433, db_name="mail",
                 reader_password='r"pw%{x}\\', quota_password="q pw", mail_root="/srv/vmail", uid=5000, gid=5000,
                 dovecot_version="2.4")
    postfix, dovecot = tmp_path / "postfix", tmp_path / "dovecot"
    assert sorted(p.name for p in dovecot.iterdir()) == ["conf.snippet"]
    assert {p.name for p in postfix.iterdir()} == {f"{m.name}.cf" for m in POSTFIX_MAPS} | {"main.cf.snippet"}
    conf = (dovecot / "conf.snippet").read_text()
    assert stat.S_IMODE((dovecot / "conf.snippet").stat().st_mode) == 0o640
    # 2.4 syntax: %{user} still quoted, the limit as quota_storage_size, quota counted and cloned.
    assert "WHERE m.address = '%{user}'" in conf and "'%u'" not in conf and "%Lu" not in conf
    assert "m.quota_bytes || 'B' AS quota_storage_size" in conf and "quota_rule" not in conf
    assert "driver = count" in conf and "quota_clone {" in conf and "dict_map priv/quota/storage {" in conf
    # Values are double-quoted with \ and " escaped and %{ written %%{ (2.4 expands %{...} in settings).
    assert 'password = "r\\"pw%%{x}\\\\"' in conf and 'password = "q pw"' in conf
    assert 'user = "mailreader"' in conf and 'user = "mailquota"' in conf
    assert 'pgsql "db.internal" {' in conf and "port = 5433" in conf


def test_mailconfig_detects_the_dovecot_version(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dovecot"
    monkeypatch.setenv("PATH", f"{bin_dir}")
    options = dict(reader_password="a", quota_password="b", mail_root="/srv/vmail")
    with pytest.raises(CommandError, match="--dovecot-version"):   # no dovecot at all
        call_command("mailconfig", out=str(tmp_path / "none"), **options)
    for output, expected in (("2.4.1-4 (7d8c0e5759)", "2.4"), ("2.3.19.1 (9b53102964)", "2.3"), ("3.0.0 (x)", None)):
        fake.write_text(f"#!/bin/sh\necho '{output}'\n")
        fake.chmod(0o755)
        out = tmp_path / output.split()[0]
        if expected is None:
            with pytest.raises(CommandError, match="cannot tell the Dovecot version.*--dovecot-version"):
                call_command("mailconfig", out=str(out), **options)
            continue
        call_command("mailconfig", out=str(out), **options)
        assert ((out / "dovecot" / "dovecot-sql.conf.ext").exists()) == (expected == "2.3")
