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


def test_app_password_queries_are_documented_verbatim():
    assert DOVECOT_APP_PASSWORD_QUERY in DOC
    assert DOVECOT24_APP_PASSWORD_QUERY in DOC


def test_the_harness_submission_service_is_the_documented_one():
    from tests.mailstack.harness import DOCUMENTED_SUBMISSION

    for key, value in DOCUMENTED_SUBMISSION.items():
        assert f"'submission/inet/{key}={value}'" in DOC, key
