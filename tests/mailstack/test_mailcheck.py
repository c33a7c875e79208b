"""`manage.py mailcheck` against the running stack on both legs, working and deliberately broken."""
import io
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from domains.models import Domain
from tests.mailstack.harness import QUOTA_PASSWORD, READER_PASSWORD

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
    for piece in ("postfix map virtual_alias_maps", "postfix map sender_login_maps", "dovecot include",
                  "dovecot auth", "quota usage"):
        assert f"ok    {piece}" in output
    assert output.count("ok    postfix map ") == 11
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
    assert f"FAIL  dovecot include: {broken} does not include {mail_stack.config_dir}/dovecot/conf.snippet" in output
    assert f"fix: echo '!include {mail_stack.config_dir}/dovecot/conf.snippet' >> {broken}" in output
    assert "ok    postfix map virtual_mailbox_domains" in output


def _drop_reader_connections():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'mailreader_test'")


def _reload(stack):
    subprocess.run(stack.leg.cmd("postfix", "-c", str(stack.postfix_dir), "reload"), capture_output=True, timeout=60)
    subprocess.run(stack.leg.cmd("doveadm", "-c", str(stack.dovecot_conf), "reload"), capture_output=True, timeout=60)


def test_mailcheck_names_a_wrong_reader_password(mail_stack):
    with connection.cursor() as cursor:
        cursor.execute("ALTER ROLE mailreader_test PASSWORD 'not-the-one-in-the-files'")
    _drop_reader_connections()
    _reload(mail_stack)
    try:
        code, output = mailcheck(mail_stack)
    finally:
        call_command("dbroles", reader_role="mailreader_test", reader_password=READER_PASSWORD,
                     quota_role="mailquota_test", quota_password=QUOTA_PASSWORD, stdout=io.StringIO())
        _reload(mail_stack)
    assert code == 1
    assert "FAIL  postfix map virtual_mailbox_domains" in output
    assert "fix: check the reader role's password" in output
    assert "FAIL  dovecot auth" in output and "ok    dovecot include" in output
    assert "checks failed" in output
