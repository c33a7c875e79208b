"""The generated files on top of the distribution's stock configuration, as docs/mailstack.md says."""
import shutil
import smtplib
import subprocess

import pytest

from domains import services
from domains.mailstack import (MAIN_CF_MAP_PARAMETERS, MAIN_CF_SNIPPET_PARAMETERS, MailConfigOptions,
                                render_main_cf_snippet, write_config)

pytestmark = pytest.mark.mailstack

STOCK_MAIN_CF = "/usr/share/postfix/main.cf.debian"


def test_snippet_appended_to_stock_main_cf_keeps_postfix_defaults(tmp_path):
    """Appending main.cf.snippet must not narrow a default: with Debian's stock main.cf,
    local_recipient_maps = proxy:unix:passwd.byname $alias_maps must stay allowed through proxymap,
    or every smtpd dies with "proxymap service is not configured for table"."""
    write_config(tmp_path / "generated", MailConfigOptions("127.0.0.1", 5432, "mailadmin", "mailreader", "r",
                                                          "mailquota", "q"), postfix_group=None, dovecot_group=None)
    shutil.copy(STOCK_MAIN_CF, tmp_path / "main.cf")
    shutil.copy("/etc/postfix/master.cf", tmp_path / "master.cf")
    with open(tmp_path / "main.cf", "a") as main_cf:   # what docs/mailstack.md says
        main_cf.write((tmp_path / "generated" / "postfix" / "main.cf.snippet").read_text())

    def expanded(parameter: str) -> str:
        result = subprocess.run(["postconf", "-c", str(tmp_path), "-x", "-h", parameter], capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
        return result.stdout

    proxy_read_maps = expanded("proxy_read_maps")
    for table in expanded("local_recipient_maps").replace(",", " ").split():
        if table.startswith("proxy:"):
            assert table.removeprefix("proxy:") in proxy_read_maps, table
    for parameter in MAIN_CF_MAP_PARAMETERS:
        assert f"proxy:pgsql:{tmp_path}/generated/" in expanded(parameter)
        for table in expanded(parameter).replace(",", " ").split():
            assert table.removeprefix("proxy:") in proxy_read_maps, (parameter, table)
    # The snippet sets its seven map parameters and recipient_delimiter, nothing else.
    set_here = {line.split("=")[0].strip() for line in render_main_cf_snippet(tmp_path).splitlines()
                if "=" in line and not line.startswith("#")}
    assert set_here == set(MAIN_CF_SNIPPET_PARAMETERS)


@pytest.mark.django_db(transaction=True)
def test_stock_defaults_keep_working_beside_the_panel_maps(mail_stack):
    """smtpd survives the stock local_recipient_maps (a proxy:unix table) and serves our domains."""
    domain = services.domain_create(name="example.org", acting_user=None)
    services.mailbox_create(domain=domain, local_part="john", password="john-password-1", acting_user=None)
    result = subprocess.run(mail_stack.leg.cmd("postmap", "-c", str(mail_stack.postfix_dir), "-q", "root",
                                               "proxy:unix:passwd.byname"), capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("root:"), result.stderr
    with smtplib.SMTP("127.0.0.1", mail_stack.smtp_port, timeout=30) as smtp:
        assert smtp.ehlo()[0] == 250
        assert smtp.mail("sender@outside.example")[0] == 250
        assert smtp.rcpt("john@example.org")[0] == 250
        assert smtp.rcpt("nobody@example.org")[0] == 550
    smtpd_fatal = [line for line in mail_stack.log().splitlines() if "/smtpd[" in line and "fatal:" in line]
    assert not smtpd_fatal and "proxymap service is not configured" not in mail_stack.log()


def test_dovecot_configuration_parses_without_warnings(mail_stack):
    result = subprocess.run(mail_stack.leg.cmd("doveconf", "-c", str(mail_stack.dovecot_conf), "-n"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "arning" not in result.stderr, result.stderr
    assert f"!include {mail_stack.config_dir}/dovecot/conf.snippet" in mail_stack.dovecot_conf.read_text()


def test_postfix_configuration_has_no_warning(mail_stack):
    """The stock main.cf after the documented steps: no parameter twice (Postfix 3.10 warns
    "overriding earlier entry"), nothing unknown or deprecated."""
    result = subprocess.run(mail_stack.leg.cmd("postconf", "-c", str(mail_stack.postfix_dir), "-n"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "recipient_delimiter = +" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_admins_own_recipient_restrictions_stay_in_effect_beside_ours(mail_stack):
    """The harness's main.cf had the admin's own smtpd_recipient_restrictions (permit_mynetworks,
    reject_unauth_destination, an access table of theirs) before the documented steps. Both that
    list and the panel's check_recipient_access must answer: a snippet line replacing the list
    would silently drop theirs (the last definition wins), and ours after their permit_mynetworks
    would never be asked for a client in mynetworks (Debian 13's 127.0.0.0/8)."""
    from tests.mailstack.harness import ADMIN_BLOCKED, ADMIN_RECIPIENT_RESTRICTIONS

    domain = services.domain_create(name="example.org", acting_user=None)
    services.mailbox_create(domain=domain, local_part=ADMIN_BLOCKED.split("@")[0], password="blocked-pass-1",
                            acting_user=None)
    services.mailbox_create(domain=domain, local_part="gone", password="gone-password-1", active=False,
                            acting_user=None)
    services.mailbox_create(domain=domain, local_part="john", password="john-password-1", acting_user=None)
    restrictions = subprocess.run(mail_stack.leg.cmd("postconf", "-c", str(mail_stack.postfix_dir), "-h",
                                                     "smtpd_recipient_restrictions"),
                                  capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    assert restrictions.startswith(f"check_recipient_access proxy:pgsql:{mail_stack.config_dir}/postfix/recipient_access.cf")
    assert restrictions.endswith(ADMIN_RECIPIENT_RESTRICTIONS)
    for client in ("127.0.0.1", "127.0.0.2"):   # inside and (on Debian 12) outside mynetworks
        with smtplib.SMTP("127.0.0.1", mail_stack.smtp_port, timeout=30, source_address=(client, 0)) as smtp:
            smtp.ehlo()
            assert smtp.mail("sender@outside.example")[0] == 250
            code, reply = smtp.rcpt(ADMIN_BLOCKED)
            assert (code, b"Blocked by local policy" in reply) == (554, True), (client, code, reply)
            code, reply = smtp.rcpt("gone@example.org")
            assert code == 550 and b"Mailbox disabled, not accepting messages" in reply, (client, code, reply)
            assert smtp.rcpt("john@example.org")[0] == 250
