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
                 dovecot_version="2.3", vmail_group="vmail")
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
    # No restriction list: it would replace the admin's own (docs/mailstack.md step 3 adds ours in front).
    assert not any(line.startswith("smtpd_") and "restrictions" in line for line in snippet.splitlines())
    assert f"#   check_recipient_access proxy:pgsql:{postfix}/recipient_access.cf" in snippet
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
    base = dict(out=str(tmp_path), reader_password="a", quota_password="b", vmail_group="vmail")
    with pytest.raises(CommandError, match="absolute"):
        call_command("mailconfig", **{**base, "mail_root": "vmail"})
    with pytest.raises(CommandError, match="unix socket"):
        call_command("mailconfig", **{**base, "db_host": "/var/run/postgresql"})
    with pytest.raises(CommandError, match="reader password contains a control character"):
        call_command("mailconfig", **{**base, "reader_password": "a\nquery = DROP"})
    # The quota password and the mail root reach only Dovecot's files (review of issue 11, item 9).
    with pytest.raises(CommandError, match="quota password contains a control character"):
        call_command("mailconfig", **{**base, "quota_password": "b'\nmap {\n  pattern = priv/quota/storage"})
    with pytest.raises(CommandError, match="mail root"):
        call_command("mailconfig", **{**base, "mail_root": "/srv/vmail\nuser_query = SELECT 1"})
    with pytest.raises(CommandError, match="mail root"):
        call_command("mailconfig", **{**base, "mail_root": "/srv/v'||(SELECT password FROM mailbox LIMIT 1)||'"})
    assert not (tmp_path / "postfix").exists()


@pytest.mark.parametrize("mail_root", ["/srv/v%u", "/srv/v%{user}", "/srv/mail store", "/srv/v\tx", '/srv/"v"',
                                       "/srv/v'x", "/srv/v\\x", "/srv/v#x", "/srv/v$x", "/", "", "srv/vmail"])
def test_mailconfig_refuses_a_mail_root_the_servers_cannot_carry(tmp_path, mail_root):
    """Dovecot %-expands user_query (%u on 2.3, %{...} on 2.4), the SQL quotes it, a blank ends
    Dovecot's home: such a mail root is refused, naming the option, before any file is written."""
    with pytest.raises(CommandError, match="mail root|--mail-root"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b",
                     vmail_group="vmail", mail_root=mail_root, dovecot_version="2.4")
    assert not (tmp_path / "postfix").exists()


@pytest.mark.parametrize("delimiter", ["%", "+%", " ", "+ ", '"', "'", "\\", "#", "$", "a", "1", "@", "++", ",", "{"])
def test_mailconfig_refuses_a_recipient_delimiter_the_servers_cannot_carry(tmp_path, delimiter):
    with pytest.raises(CommandError, match="recipient delimiter"):
        call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b",
                     vmail_group="vmail", recipient_delimiter=delimiter, dovecot_version="2.3")


@pytest.mark.parametrize("password", [" lead", "trail ", "\ttab", "line\nbreak", ""])
def test_role_passwords_postfix_would_change_are_refused_by_mailconfig_and_dbroles(tmp_path, password):
    """Postfix's map files drop blanks around a value: the role would get one password and Postfix
    would send another. dbroles refuses it too, so no role is ever given a password mailconfig cannot write."""
    for role in ("reader", "quota"):
        passwords = {"reader_password": "fine-r", "quota_password": "fine-q", f"{role}_password": password}
        with pytest.raises(CommandError, match=f"the {role} password"):
            call_command("mailconfig", out=str(tmp_path), vmail_group="vmail", dovecot_version="2.4", **passwords)
        with pytest.raises(CommandError, match=f"the {role} password"):
            call_command("dbroles", reader_role="reader_x", quota_role="quota_x", **passwords)


def test_dict_listener_group_is_the_name_of_gid(tmp_path):
    """Dovecot's unix_listener takes a group name: the one of --gid on this host, or --vmail-group."""
    import grp

    mail = grp.getgrnam("mail")   # Debian's gid 8
    for version in ("2.3", "2.4"):
        out = tmp_path / version
        call_command("mailconfig", out=str(out), reader_password="a", quota_password="b", gid=mail.gr_gid,
                     dovecot_version=version)
        conf = (out / "dovecot" / "conf.snippet").read_text()
        assert conf.count("service dict {") == 1
        assert "  unix_listener dict {\n    mode = 0660\n    group = mail\n  }" in conf
        assert "= vmail" not in conf
    unused = next(gid for gid in range(54321, 60000) if gid not in {g.gr_gid for g in grp.getgrall()})
    with pytest.raises(CommandError, match=f"no group has gid {unused} on this host: give --vmail-group"):
        call_command("mailconfig", out=str(tmp_path / "x"), reader_password="a", quota_password="b", gid=unused,
                     dovecot_version="2.4")
    call_command("mailconfig", out=str(tmp_path / "y"), reader_password="a", quota_password="b", gid=unused,
                 vmail_group="mailstore", dovecot_version="2.4")
    assert "group = mailstore" in (tmp_path / "y" / "dovecot" / "conf.snippet").read_text()
    with pytest.raises(CommandError, match="vmail group"):
        call_command("mailconfig", out=str(tmp_path / "z"), reader_password="a", quota_password="b",
                     vmail_group="mail store\n}", dovecot_version="2.4")


def test_settings_the_servers_cannot_carry_fail_the_system_check(settings):
    from django.core.checks import run_checks

    settings.MAIL_ROOT, settings.MAILADMIN_RECIPIENT_DELIMITER = "/srv/mail%u", "+ "
    errors = {e.id: e.msg for e in run_checks()}
    assert "mail root '/srv/mail%u'" in errors["domains.E001"]
    assert "recipient delimiter '+ '" in errors["domains.E002"]
    settings.MAIL_ROOT, settings.MAILADMIN_RECIPIENT_DELIMITER = "/var/vmail", "+-"
    assert not [e for e in run_checks() if e.id.startswith("domains.")]


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
                 dovecot_version="2.4", vmail_group="vmail")
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
    options = dict(reader_password="a", quota_password="b", mail_root="/srv/vmail", vmail_group="vmail")
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


@pytest.mark.django_db(transaction=True)
def test_dbroles_never_sends_a_role_password_to_the_server_in_clear():
    """`ALTER ROLE ... PASSWORD 'plain'` puts the password in PostgreSQL's statement log
    (log_statement = ddl/all, log_min_error_statement) and in pg_stat_statements. dbroles sends
    a SCRAM-SHA-256 verifier computed by libpq instead (PQencryptPasswordConn, the way psql's
    \\password does), and the role still logs in with the password."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call_command("dbroles", reader_role="reader_s", reader_password="Plain-reader-9",
                     quota_role="quota_s", quota_password="Plain-quota-9")
    sent = "\n".join(query["sql"] for query in queries.captured_queries)
    assert "ROLE" in sent
    assert "Plain-reader-9" not in sent and "Plain-quota-9" not in sent
    assert "SCRAM-SHA-256$" in sent
    db = connection.settings_dict
    for user, password in (("reader_s", "Plain-reader-9"), ("quota_s", "Plain-quota-9")):
        psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=user, password=password).close()


def test_mailconfig_says_when_it_could_not_give_the_secret_files_to_the_daemon_groups(tmp_path):
    """Run on the panel's host (no postfix group there, or other gids than the mail host's), the
    0640 files stay in root's group and Postfix's proxymap cannot read them: every lookup fails.
    mailconfig says so and gives the chgrp to run on the mail host."""
    import io

    err = io.StringIO()
    call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b", vmail_group="vmail",
                 dovecot_version="2.4", postfix_group="no-such-postfix", stderr=err, stdout=io.StringIO())
    warning = err.getvalue()
    assert (f"warning: {tmp_path}/postfix/*.cf are mode 0640 but not given to group no-such-postfix "
            f"(no group 'no-such-postfix' on this host): on the mail host, run `chgrp no-such-postfix "
            f"{tmp_path}/postfix/*.cf`") in warning, warning
    assert "dovecot" not in warning      # the dovecot group exists here: its file got it
    err = io.StringIO()
    call_command("mailconfig", out=str(tmp_path), reader_password="a", quota_password="b", vmail_group="vmail",
                 dovecot_version="2.4", stderr=err, stdout=io.StringIO())
    assert err.getvalue() == ""


@pytest.mark.django_db(transaction=True)
def test_role_passwords_come_from_the_environment_not_the_command_line(tmp_path, monkeypatch):
    """`--reader-password SECRET` is readable by every local user in `ps` while the command runs,
    and stays in the shell's history: dbroles and mailconfig take both passwords from
    MAILADMIN_READER_PASSWORD / MAILADMIN_QUOTA_PASSWORD instead (docs/mailstack.md, steps 1-2)."""
    for command, options in (("dbroles", {"reader_role": "reader_e", "quota_role": "quota_e"}),
                             ("mailconfig", {"out": str(tmp_path), "vmail_group": "vmail", "dovecot_version": "2.4"})):
        with pytest.raises(CommandError, match="the reader password is missing: set MAILADMIN_READER_PASSWORD"):
            call_command(command, **options)
    monkeypatch.setenv("MAILADMIN_READER_PASSWORD", "env-Reader-7")
    monkeypatch.setenv("MAILADMIN_QUOTA_PASSWORD", "env-Quota-7")
    call_command("dbroles", reader_role="reader_e", quota_role="quota_e")
    call_command("mailconfig", out=str(tmp_path), vmail_group="vmail", dovecot_version="2.4", reader_role="reader_e",
                 quota_role="quota_e")
    assert "password = env-Reader-7" in (tmp_path / "postfix" / "virtual_mailbox_maps.cf").read_text()
    assert 'password = "env-Quota-7"' in (tmp_path / "dovecot" / "conf.snippet").read_text()
    db = connection.settings_dict
    psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user="reader_e",
                    password="env-Reader-7").close()
    # An option still wins over the environment.
    call_command("mailconfig", out=str(tmp_path), vmail_group="vmail", dovecot_version="2.4",
                 reader_password="opt-Reader-7")
    assert "password = opt-Reader-7" in (tmp_path / "postfix" / "virtual_mailbox_maps.cf").read_text()


def test_an_admins_own_protocol_plugins_keep_our_quota_on_dovecot_23(tmp_path):
    """Pigeonhole's usual setup, `mail_plugins = $mail_plugins sieve` in conf.d/20-lmtp.conf,
    comes before our include: in that filter $mail_plugins is the filter's own value, so a global
    `quota` never reached LMTP (no quota check at RCPT, no usage update). Debian 12's stock
    /etc/dovecot, that one line edited, then our snippet, read back by the real doveconf."""
    import shutil
    import subprocess

    conf = tmp_path / "dovecot"
    shutil.copytree("/etc/dovecot", conf)
    for path in [conf / "dovecot.conf", *(conf / "conf.d").glob("*")]:
        path.write_text(path.read_text().replace("/etc/dovecot", str(conf)))
    lmtp = conf / "conf.d" / "20-lmtp.conf"
    lmtp.write_text(lmtp.read_text().replace("#mail_plugins = $mail_plugins", "mail_plugins = $mail_plugins sieve"))
    call_command("mailconfig", out=str(tmp_path / "generated"), reader_password="r", quota_password="q",
                 mail_root="/srv/vmail", dovecot_version="2.3", uid=5000, gid=5000, vmail_group="mail")
    with open(conf / "dovecot.conf", "a") as main:
        main.write(f"!include {tmp_path}/generated/dovecot/conf.snippet\n")
    for protocol, wanted in (("lmtp", {"quota", "sieve"}), ("imap", {"quota", "imap_quota", "last_login"}),
                             ("pop3", {"quota", "last_login"})):
        shown = subprocess.run(["doveconf", "-c", str(conf / "dovecot.conf"), "-f", f"protocol={protocol}",
                                "-h", "mail_plugins"], capture_output=True, text=True, timeout=60)
        assert wanted <= set(shown.stdout.split()), (protocol, shown.stdout, shown.stderr)
