"""docs/mailstack.md shows every query exactly as the servers run it."""
from pathlib import Path

from domains.mailstack import (DOVECOT24_PASSWORD_QUERY, DOVECOT_ITERATE_QUERY, DOVECOT_PASSWORD_QUERY,
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
                 importlib.import_module("domains.migrations.0008_last_login").LAST_LOGIN_TO_MAILBOX.strip()):
        assert text in DOC, text
