"""docs/mailstack.md shows every query exactly as the servers run it."""
from pathlib import Path

from domains.mailstack import (DOVECOT24_APP_PASSWORD_QUERY, DOVECOT_APP_PASSWORD_QUERY, DOVECOT24_PASSWORD_QUERY, DOVECOT_ITERATE_QUERY, DOVECOT_PASSWORD_QUERY,
                               POSTFIX_MAPS, MailConfigOptions, dovecot_user_query)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "mailstack.md").read_text()


def test_every_query_is_documented_verbatim():
    for pmap in POSTFIX_MAPS:
        assert pmap.query in DOC, pmap.name
        assert f"`{pmap.name}.cf` → `{pmap.setting}`" in DOC
    assert DOVECOT_PASSWORD_QUERY in DOC
    assert DOVECOT_ITERATE_QUERY in DOC
    assert DOVECOT24_PASSWORD_QUERY in DOC
    for version in ("2.3", "2.4"):
        options = MailConfigOptions("h", 5432, "db", "r", "p", "q", "p", dovecot_version=version)
        assert dovecot_user_query(options) in DOC, version


def test_vacation_and_last_login_are_documented_verbatim():
    import importlib

    from domains.mailstack import LAST_LOGIN_UPSERT, SIEVE_DATA_QUERY, SIEVE_NAME_QUERY

    for text in (SIEVE_NAME_QUERY, SIEVE_DATA_QUERY, LAST_LOGIN_UPSERT,
                 importlib.import_module("vacation.migrations.0001_initial").VACATION_SIEVE_VIEW.strip(),
                 importlib.import_module("domains.migrations.0007_last_login").LAST_LOGIN_TO_MAILBOX.strip()):
        assert text in DOC, text
DEPLOY = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()


def test_setup_commands_in_both_docs_are_the_ones_the_tests_run():
    """The mail-stack harness runs these commands on both Debian legs (tests/mailstack/harness.py);
    docs/mailstack.md and docs/deploy.md give the same ones, verbatim."""
    from tests.mailstack.harness import DOCUMENTED_AUTH_SYSTEM_STEP, DOCUMENTED_MAIN_CF

    from domains.mailstack import RECIPIENT_RESTRICTIONS_STEP

    for doc in (DOC, DEPLOY):
        assert RECIPIENT_RESTRICTIONS_STEP in doc
        assert DOCUMENTED_AUTH_SYSTEM_STEP in doc
        assert "postconf -X recipient_delimiter\ncat /etc/mailadmin/postfix/main.cf.snippet >> /etc/postfix/main.cf" in doc
        assert "!include /etc/mailadmin/dovecot/conf.snippet" in doc
        # No doc tells admins to keep Debian's passdb pam / userdb passwd, or to replace their restrictions.
        assert "stay enabled" not in doc and "The snippet sets\n`smtpd_recipient_restrictions`" not in doc
    for name, value in DOCUMENTED_MAIN_CF.items():
        assert f"postconf -e '{name} = {value}'" in DOC


def test_include_placements_the_docs_give_are_the_ones_mailcheck_reads():
    # mailstack.md: the end of dovecot.conf; deploy.md: local.conf, which Debian's dovecot.conf
    # includes last (tests/mailstack/test_mailcheck.py runs mailcheck with both).
    assert "echo '!include /etc/mailadmin/dovecot/conf.snippet' >> /etc/dovecot/dovecot.conf" in DOC
    local_conf = DEPLOY.split("`/etc/dovecot/local.conf`:", 1)[1].split("```", 2)[1]
    assert local_conf.rstrip().endswith("!include /etc/mailadmin/dovecot/conf.snippet")


def test_app_password_queries_are_documented_verbatim():
    assert DOVECOT_APP_PASSWORD_QUERY in DOC
    assert DOVECOT24_APP_PASSWORD_QUERY in DOC


def test_the_harness_submission_service_is_the_documented_one():
    from tests.mailstack.harness import DOCUMENTED_SUBMISSION

    for key, value in DOCUMENTED_SUBMISSION.items():
        assert f"'submission/inet/{key}={value}'" in DOC, key
