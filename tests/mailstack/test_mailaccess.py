"""App passwords and send-as grants against the real Dovecot and Postfix, on both legs:
`doveadm auth test`, IMAP logins and SASL submissions under reject_sender_login_mismatch."""
import smtplib
import subprocess

import pytest
from django.test import override_settings

from domains import routing_db, services
from mailaccess import services as access
from mailaccess.models import AppPassword
from tests.accounts.test_mailuser_dovecot import OLD, cached_dovecot, mailbox  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

PASSWORD = "mailbox-password-1"


@pytest.fixture
def world():
    domain = services.domain_create(name="example.org", acting_user=None)
    john = services.mailbox_create(domain=domain, local_part="john", password=PASSWORD, acting_user=None)
    jane = services.mailbox_create(domain=domain, local_part="jane", password=PASSWORD, acting_user=None)
    services.alias_domain_create(name="example.net", target=domain, acting_user=None)
    return {"domain": domain, "john": john, "jane": jane}


def test_app_passwords_log_in_only_while_active_and_where_allowed(mail_stack, world):
    john = world["john"]
    everywhere = access.app_password_create(mailbox=john, name="laptop", acting_user=None).secret
    imap_only = access.app_password_create(mailbox=john, name="tablet", protocols=["imap"], acting_user=None).secret
    smtp_only = access.app_password_create(mailbox=john, name="printer", protocols=["smtp"], acting_user=None).secret
    jane_secret = access.app_password_create(mailbox=world["jane"], name="phone", acting_user=None).secret

    # The mailbox password still works; each app password works for its own mailbox only.
    assert mail_stack.auth_test("john@example.org", PASSWORD)
    assert mail_stack.auth_test("john@example.org", everywhere, service="imap")
    assert mail_stack.auth_test("John@Example.org", everywhere, service="pop3")   # logins are lower-cased
    assert mail_stack.imap_login("john@example.org", everywhere)
    assert not mail_stack.auth_test("john@example.org", jane_secret, service="imap")
    assert not mail_stack.auth_test("john@example.org", everywhere + "x", service="imap")
    assert not mail_stack.auth_test("john@example.org", everywhere.upper(), service="imap")
    assert not mail_stack.imap_login("john@example.org", "wrong-" + everywhere)
    assert not mail_stack.auth_test("nobody@example.org", everywhere, service="imap")

    # "Every protocol" is IMAP, POP3 and SMTP submission, as the form says (review 15a: it opened
    # every Dovecot service, ManageSieve too, where a leaked app password installs a redirect that
    # outlives its revocation); the mailbox password still opens them.
    for service in ("sieve", "doveadm", "imap-urlauth", "lmtp"):
        assert not mail_stack.auth_test("john@example.org", everywhere, service=service), service
        assert mail_stack.auth_test("john@example.org", PASSWORD, service=service), service
    assert mail_stack.auth_test("john@example.org", everywhere, service="submission")

    # Protocol limits: Dovecot's service name (imap; smtp for Postfix's SMTP AUTH).
    assert mail_stack.auth_test("john@example.org", imap_only, service="imap")
    assert mail_stack.imap_login("john@example.org", imap_only)
    assert not mail_stack.auth_test("john@example.org", imap_only, service="smtp")
    assert not mail_stack.auth_test("john@example.org", imap_only, service="pop3")
    assert not mail_stack.imap_login("john@example.org", smtp_only)
    assert mail_stack.auth_test("john@example.org", smtp_only, service="smtp")
    mail_stack.submit("john@example.org", smtp_only, sender="john@example.org", to="jane@example.org")
    mail_stack.wait_for_mail("jane@example.org", 1)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        mail_stack.submit("john@example.org", imap_only, sender="john@example.org", to="jane@example.org")

    # Revoked: refused at the very next login.
    access.app_password_revoke(app_password=AppPassword.objects.get(mailbox=john, name="laptop"), acting_user=None)
    assert not mail_stack.auth_test("john@example.org", everywhere, service="imap")
    assert not mail_stack.imap_login("john@example.org", everywhere)
    assert mail_stack.imap_login("john@example.org", imap_only)   # the others still work

    # An inactive mailbox: no app password logs in either.
    services.mailbox_update(mailbox=john, active=False, acting_user=None)
    assert not mail_stack.auth_test("john@example.org", imap_only, service="imap")


def test_sql_never_sees_the_typed_password(mail_stack, world):
    """The generated files send Dovecot's hash of the password to SQL, never the variable itself."""
    secret = access.app_password_create(mailbox=world["john"], name="laptop", acting_user=None).secret
    generated = "\n".join(p.read_text() for p in (mail_stack.config_dir / "dovecot").iterdir() if p.is_file())
    for plain in ("'%w'", "'%{password}'", "'%{w}'"):
        assert plain not in generated
    assert mail_stack.auth_test("john@example.org", secret, service="imap")


def test_send_as_grants_under_reject_sender_login_mismatch(mail_stack, world):
    john, jane = world["john"], world["jane"]
    # Without a grant: john may not send as jane, nor as an outside address.
    for sender in ("jane@example.org", "someone@outside.example"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            mail_stack.submit("john@example.org", PASSWORD, sender=sender, to="jane@example.org")
        assert "not owned by user" in str(refused.value)
    assert mail_stack.postmap("sender_login_maps", "jane@example.org") == "jane@example.org"

    access.sender_grant_create(mailbox=john, address="jane@example.org", acting_user=None)
    access.sender_grant_create(mailbox=john, address="someone@outside.example", acting_user=None)
    assert set(mail_stack.postmap("sender_login_maps", "jane@example.org").split(",")) == {
        "jane@example.org", "john@example.org"}
    assert mail_stack.postmap("sender_login_maps", "jane@example.net") == \
        mail_stack.postmap("sender_login_maps", "jane@example.org")   # the alias-domain form too
    # The routing model (the explainer's "who may send as X") agrees with Postfix's answers.
    for key in ("jane@example.org", "jane@example.net", "someone@outside.example", "nobody@example.org"):
        answer = mail_stack.postmap("sender_login_maps", key)
        assert routing_db.resolve(key).senders == sorted(answer.split(",") if answer else []), key
    mail_stack.submit("john@example.org", PASSWORD, sender="jane@example.org", to="jane@example.org")
    mail_stack.submit("john@example.org", PASSWORD, sender="jane@example.net", to="jane@example.org")
    mail_stack.submit("john@example.org", PASSWORD, sender="someone@outside.example", to="jane@example.org")
    mail_stack.wait_for_mail("jane@example.org", 3)

    # Withdrawn: refused again at once.
    grant = john.sender_grants.get(address="jane@example.org")
    access.sender_grant_delete(grant=grant, acting_user=None)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        mail_stack.submit("john@example.org", PASSWORD, sender="jane@example.org", to="jane@example.org")
    # A grant to an inactive mailbox gives nothing.
    services.mailbox_update(mailbox=john, active=False, acting_user=None)
    assert mail_stack.postmap("sender_login_maps", "someone@outside.example") is None


def test_app_passwords_under_dovecots_auth_cache(mail_stack, cached_dovecot, mailbox):
    """With Dovecot's auth cache on (docs/mailstack-auth.md), a cached app-password login answers
    nopassword: its cache key must hold the typed password's hash, or any password would pass."""
    conf = mail_stack.root / "dovecot-cache.conf"

    def auth(password):
        return subprocess.run(mail_stack.leg.cmd("doveadm", "-c", str(conf), "auth", "test", "-x", "service=imap",
                                                 "jane@users.example", password),
                              capture_output=True, timeout=30).returncode == 0

    created = access.app_password_create(mailbox=mailbox, name="phone", acting_user=None)
    assert auth(created.secret)                     # now cached
    assert not auth("not the password")
    assert not auth("")
    assert auth(OLD)
    with override_settings(MAILADMIN_DOVEADM_API_URL=cached_dovecot["url"],
                           MAILADMIN_DOVEADM_API_KEY=cached_dovecot["key"]):
        access.app_password_revoke(app_password=created.app_password, acting_user=None)
    # Debian 13's 2.4.1 cannot flush over HTTP (docs/mailstack-auth.md): the cached entry lives on
    # until auth_cache_ttl, as a changed mailbox password does.
    assert auth(created.secret) is (cached_dovecot["version"] == "2.4")
