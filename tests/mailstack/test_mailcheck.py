"""`manage.py mailcheck` against the running stack on both legs, working and deliberately broken."""
import io
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from domains.mailstack import POSTFIX_MAPS
from domains.models import Domain

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def mailcheck(stack, **overrides) -> tuple[int, str]:
    options = {"config_dir": str(stack.config_dir), "postfix_config": str(stack.postfix_dir),
               "dovecot_config": str(stack.dovecot_conf)}
    if stack.leg.tree != Path("/"):
        options["chroot"] = str(stack.leg.tree)
    options.update(overrides)
    out = io.StringIO()
    try:
        call_command("mailcheck", stdout=out, **options)
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_mailcheck_reports_every_piece_working(mail_stack):
    code, output = mailcheck(mail_stack)
    assert code == 0, output
    for piece in ("postfix map virtual_alias_maps", "postfix map sender_login_maps", "postfix recipient restrictions",
                  "dovecot include", "dovecot auth", "quota usage", "postfix send-as grant", "dovecot app password",
                  "vacation sieve dict", "last login dict"):
        assert f"ok    {piece}" in output
    assert output.count("ok    postfix map ") == len(POSTFIX_MAPS) == 13
    # The probe leaves nothing behind: no rows, no mail.
    assert not Domain.objects.filter(name__startswith="mailcheck-").exists()
    assert list(mail_stack.mail_root.iterdir()) == []


def test_mailcheck_names_a_missing_dovecot_include(mail_stack):
    conf = mail_stack.dovecot_conf.read_text()
    include = f"!include {mail_stack.config_dir}/dovecot/conf.snippet\n"
    assert include in conf
    broken = mail_stack.dovecot_conf.with_name("without-include.conf")
    broken.write_text(conf.replace(include, ""))
    code, output = mailcheck(mail_stack, dovecot_config=str(broken))
    assert code == 1
    assert (f"FAIL  dovecot include: the configuration {broken} loads does not include "
            f"{mail_stack.config_dir}/dovecot/conf.snippet") in output
    assert f"fix: add the line `!include {mail_stack.config_dir}/dovecot/conf.snippet` at the end of {broken}" in output
    assert "ok    postfix map virtual_mailbox_domains" in output


def test_mailcheck_finds_the_include_in_local_conf(mail_stack):
    """docs/deploy.md puts the include in local.conf, which Debian's dovecot.conf includes last
    (`!include_try local.conf`, on Debian 12 and 13): mailcheck asks what Dovecot loaded
    (`doveconf -n`), not one file."""
    conf = mail_stack.dovecot_conf.read_text()
    include = f"!include {mail_stack.config_dir}/dovecot/conf.snippet\n"
    assert include in conf and "\n!include_try local.conf\n" in conf
    elsewhere = mail_stack.dovecot_conf.with_name("include-in-local.conf")
    elsewhere.write_text(conf.replace(include, ""))
    local_conf = mail_stack.dovecot_conf.with_name("local.conf")
    local_conf.write_text(include)
    try:
        code, output = mailcheck(mail_stack, dovecot_config=str(elsewhere))
    finally:
        local_conf.unlink()
    assert code == 0, output
    assert "ok    dovecot include" in output and "ok    dovecot auth" in output


def test_mailcheck_names_missing_or_late_recipient_restrictions(mail_stack):
    """smtpd_recipient_restrictions without the panel's check (the snippet no longer sets it), or
    with it after a permit_*: inactive addresses would be accepted, then bounced."""
    from domains.mailstack import recipient_access_restriction

    ours = recipient_access_restriction(mail_stack.config_dir / "postfix")
    main_cf = (mail_stack.postfix_dir / "main.cf").read_text()
    base = mail_stack.root / "restrictions"   # inside the stack's root, which the Debian 13 chroot sees too
    assert ours in main_cf
    for name, replacement, detail, fix in (
            ("without", "", f"smtpd_recipient_restrictions does not list {ours}",
             f'fix: postconf -c {base / "without"} -e "smtpd_recipient_restrictions = {ours} $(postconf -c '
             f'{base / "without"} -h smtpd_recipient_restrictions)" && postfix reload'),
            ("late", "permit_mynetworks " + ours, f"{ours} comes after permit_mynetworks",
             "fix: move it to the front of smtpd_recipient_restrictions")):
        postfix_dir = base / name
        postfix_dir.mkdir(parents=True)
        (postfix_dir / "main.cf").write_text(main_cf.replace(ours, replacement))
        (postfix_dir / "master.cf").write_text((mail_stack.postfix_dir / "master.cf").read_text())
        code, output = mailcheck(mail_stack, postfix_config=str(postfix_dir))
        assert code == 1
        assert f"FAIL  postfix recipient restrictions: {detail}" in output, output
        assert fix in output, output
        assert "ok    postfix map recipient_access" in output


def test_mailcheck_names_a_wrong_reader_password(mail_stack):
    # An admin ran mailconfig with another password than the one dbroles set.
    mail_stack.regenerate_config(reader_password="not-the-reader-password")
    try:
        code, output = mailcheck(mail_stack)
    finally:
        mail_stack.regenerate_config()
    assert code == 1
    assert "FAIL  postfix map virtual_mailbox_domains" in output
    assert "fix: check the reader role's password" in output, output
    assert "FAIL  dovecot auth" in output and "ok    dovecot include" in output
    assert "checks failed" in output
    assert not Domain.objects.filter(name__startswith="mailcheck-").exists()


def test_mailcheck_names_a_quota_role_that_cannot_read_vacation_scripts(mail_stack):
    # dbroles from before vacation replies: the quota role lacks SELECT on vacation_sieve.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("REVOKE SELECT ON vacation_sieve FROM mailquota_test")
    try:
        code, output = mailcheck(mail_stack)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("GRANT SELECT ON vacation_sieve TO mailquota_test")
    assert code == 1
    assert "FAIL  vacation sieve dict" in output and "ok    last login dict" in output, output
    assert "re-run `manage.py dbroles`" in output


def test_mailcheck_names_a_reader_role_older_than_the_mailaccess_tables(mail_stack):
    """An upgrade that skipped `dbroles`: the reader role cannot read app_password or sender_grant."""
    from django.db import connection

    from tests.mailstack.harness import QUOTA_PASSWORD, READER_PASSWORD

    with connection.cursor() as cursor:
        cursor.execute("REVOKE SELECT ON app_password, sender_grant FROM mailreader_test")
    try:
        code, output = mailcheck(mail_stack)
    finally:
        call_command("dbroles", reader_role="mailreader_test", reader_password=READER_PASSWORD,
                     quota_role="mailquota_test", quota_password=QUOTA_PASSWORD, stdout=io.StringIO())
        # After dbroles, a reload (as docs/mailstack.md says): Postfix's pgsql client holds a host
        # that failed a query as down for a while (pgsql_table(5)); proxymap restarts without it.
        mail_stack.postfix("reload")
    assert code == 1
    assert "FAIL  dovecot app password" in output and "FAIL  postfix send-as grant" in output
    assert "re-run `manage.py dbroles`" in output
    assert "ok    dovecot auth" in output
    code, output = mailcheck(mail_stack)
    assert code == 0, output


def test_mailcheck_names_a_reader_role_that_cannot_read_a_table(mail_stack):
    """A reader role missing SELECT on one table (a hand-made role, a restore without grants):
    every map and login fails with only "Application error" in Postfix's answer, so mailcheck asks
    PostgreSQL what the role named in the map files may read, and names the table."""
    from django.db import connection

    from tests.mailstack.harness import QUOTA_PASSWORD, READER_PASSWORD

    with connection.cursor() as cursor:
        cursor.execute("REVOKE SELECT ON mailbox FROM mailreader_test")
    try:
        code, output = mailcheck(mail_stack)
    finally:
        call_command("dbroles", reader_role="mailreader_test", reader_password=READER_PASSWORD,
                     quota_role="mailquota_test", quota_password=QUOTA_PASSWORD, stdout=io.StringIO())
        mail_stack.postfix("reload")
    assert code == 1
    assert ("FAIL  database role mailreader_test: the role Postfix and Dovecot log in as (user = in "
            f"{mail_stack.config_dir}/postfix/*.cf) lacks SELECT on mailbox") in output, output
    assert "fix: re-run `manage.py dbroles --reader-role mailreader_test" in output
    assert "FAIL  dovecot auth" in output
    code, output = mailcheck(mail_stack)
    assert code == 0, output
    assert "ok    database role mailreader_test" in output


def test_mailcheck_names_a_stopped_panel_database(tmp_path):
    """PostgreSQL stopped (nothing listens on its port): one line naming the database and the fix,
    not a Python traceback."""
    import os
    import socket
    import sys

    with socket.socket() as probe:          # a port nothing listens on: a stopped server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"postgres://mailadmin:x@127.0.0.1:{port}/mailadmin",
           "DJANGO_SETTINGS_MODULE": "mailadmin.settings_test"}
    result = subprocess.run([sys.executable, "manage.py", "mailcheck", "--config-dir", str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert f"FAIL  panel database: cannot connect to PostgreSQL at 127.0.0.1:{port}" in output, output
    assert "fix: start PostgreSQL" in output


def test_mailcheck_names_an_admin_setting_the_appended_snippet_overrides(mail_stack):
    """An admin's own transport_maps (or virtual_alias_maps, relay_domains...) set above the
    appended main.cf.snippet stops applying: Postfix keeps the last definition. Silent on Postfix
    3.7; mailcheck names the line and the earlier value."""
    main_cf = (mail_stack.postfix_dir / "main.cf").read_text()
    assert main_cf.count("\ntransport_maps =") == 1
    postfix_dir = mail_stack.root / "overridden"   # inside the stack's root, which the Debian 13 chroot sees too
    postfix_dir.mkdir()
    (postfix_dir / "main.cf").write_text("transport_maps = hash:/etc/postfix/transport\n" + main_cf)
    (postfix_dir / "master.cf").write_text((mail_stack.postfix_dir / "master.cf").read_text())
    code, output = mailcheck(mail_stack, postfix_config=str(postfix_dir))
    assert code == 1
    assert (f"FAIL  postfix main.cf: {postfix_dir}/main.cf sets these earlier than main.cf.snippet, and only the "
            "last definition counts: transport_maps at line 1 (hash:/etc/postfix/transport)") in output, output
    assert "fix: merge each earlier value into the snippet's line" in output
    code, output = mailcheck(mail_stack)
    assert code == 0, output
    assert "ok    postfix main.cf" in output
