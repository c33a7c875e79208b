import pytest
from django.urls import reverse
from passlib.hash import bcrypt, md5_crypt, sha256_crypt, sha512_crypt

from accounts.mailusers import is_legacy, verify_password
from domains.password_schemes import UnverifiableHash
from audit.models import AuditEntry
from domains import services
from domains.models import Alias, Mailbox
from domains.passwords import hash_password, verify_argon2id

pytestmark = pytest.mark.django_db

PW = "the user's passphrase"


@pytest.fixture
def mailbox():
    domain = services.domain_create(name="example.org", acting_user=None)
    return services.mailbox_create(domain=domain, local_part="john", password=PW, quota_bytes=10 * 1024**2,
                                   acting_user=None)


@pytest.mark.parametrize("stored", [
    lambda: hash_password(PW),
    lambda: "{SHA512-CRYPT}" + sha512_crypt.hash(PW),
    lambda: "{SHA256-CRYPT}" + sha256_crypt.hash(PW),
    lambda: "{BLF-CRYPT}" + bcrypt.using(ident="2y").hash(PW),
    lambda: "{MD5-CRYPT}" + md5_crypt.hash(PW),
])
def test_every_supported_scheme(stored):
    value = stored()
    assert verify_password(value, PW, user="john@example.org")
    assert not verify_password(value, "wrong", user="john@example.org")


@pytest.mark.parametrize("stored", ["{NOSUCH}" + PW, PW, "", "{SSHA}not base64!", "{CRYPT}$zz$abc", "{PLAIN-TRUNC}no-length",
                                    # No prefix is default_pass_scheme (ARGON2ID), as in Dovecot's passdb.
                                    sha512_crypt.hash(PW), bcrypt.using(ident="2y").hash(PW)])
def test_unverifiable_hashes_never_match(stored):
    with pytest.raises(UnverifiableHash):
        verify_password(stored, PW, user="john@example.org")


def login(client, address, password):
    return client.post(reverse("mailuser:login"), {"address": address, "password": password})


def test_login_rehashes_legacy_password(client, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(password="{SHA512-CRYPT}" + sha512_crypt.hash(PW))
    response = login(client, "John@Example.org", PW)
    assert response.status_code == 302 and response["Location"] == "/me/"
    mailbox.refresh_from_db()
    assert not is_legacy(mailbox.password) and verify_argon2id(mailbox.password, PW)
    assert AuditEntry.objects.filter(action="mailbox.rehash", actor_label="john@example.org").exists()
    assert client.get(reverse("mailuser:home")).status_code == 200


def test_inactive_mailbox_or_domain_cannot_log_in(client, mailbox):
    services.mailbox_set_active(mailbox=mailbox, active=False, acting_user=None)
    assert login(client, "john@example.org", PW).status_code == 200
    services.mailbox_set_active(mailbox=mailbox, active=True, acting_user=None)
    services.domain_set_active(domain=mailbox.domain, active=False, acting_user=None)
    page = login(client, "john@example.org", PW)
    assert page.status_code == 200 and "Wrong address or password" in page.content.decode()


def test_failed_logins_are_throttled(client, mailbox):
    for _ in range(5):
        login(client, "john@example.org", "wrong")
    locked = login(client, "john@example.org", PW)
    assert locked.status_code == 429
    assert client.get(reverse("mailuser:home")).status_code == 302


def test_mail_user_never_gets_an_admin_view(client, mailbox):
    login(client, "john@example.org", PW)
    for url in ("/", "/domains/", "/mailboxes/", "/audit/", "/accounts/admins/", "/quota/", "/aliases/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_password_change_with_policy_errors(client, mailbox):
    login(client, "john@example.org", PW)
    url = reverse("mailuser:password")
    wrong = client.post(url, {"current": "nope", "new": "a fresh long passphrase", "new_again": "a fresh long passphrase"})
    assert "current" in wrong.context["form"].errors
    short = client.post(url, {"current": PW, "new": "short", "new_again": "short"})
    assert "at least 12 characters" in short.content.decode()
    own = client.post(url, {"current": PW, "new": "john@example.org-1234", "new_again": "john@example.org-1234"})
    assert "must not contain your address" in own.content.decode()
    ok = client.post(url, {"current": PW, "new": "a fresh long passphrase", "new_again": "a fresh long passphrase"})
    assert ok.status_code == 302
    mailbox.refresh_from_db()
    assert verify_argon2id(mailbox.password, "a fresh long passphrase")
    entry = AuditEntry.objects.get(action="mailbox.password")
    assert entry.actor_label == "john@example.org" and entry.actor is None
    assert client.get(reverse("mailuser:home")).status_code == 200   # this session survives


def test_password_change_elsewhere_ends_the_session(client, mailbox):
    login(client, "john@example.org", PW)
    services.mailbox_set_password(mailbox=mailbox, password="set by the admin", acting_user=None)
    assert client.get(reverse("mailuser:home")).status_code == 302


def test_forwarding_and_external_policy(client, mailbox):
    login(client, "john@example.org", PW)
    url = reverse("mailuser:forwarding")
    client.post(url, {"destinations": "Me@Elsewhere.example", "keep_copy": "on"})
    assert Alias.objects.get(mailbox=mailbox).destinations == ["john@example.org", "me@elsewhere.example"]
    services.domain_update(domain=mailbox.domain, allow_external_forwarding=False, acting_user=None)
    refused = client.post(url, {"destinations": "other@elsewhere.example"})
    assert "does not allow forwarding" in refused.content.decode()
    client.post(url, {"destinations": ""})
    assert not Alias.objects.filter(mailbox=mailbox).exists()


def test_home_shows_usage(client, mailbox):
    login(client, "john@example.org", PW)
    page = client.get(reverse("mailuser:home")).content.decode()
    assert "No mail delivered yet" in page and "10.0" in page and "MB" in page


# Made by `doveadm pw -s SCHEME -p "the user's passphrase"` (Dovecot 2.3.19, Debian 12).
DOVEADM_HASHES = {
    "SSHA512": "{SSHA512}MYEHEp/JXnByo+nv+oPYDdIogRrNhSVftHrFv43/uGXabfCRW9O2/0HPZ4rdCBn4cKXhbhIh4J6tHGtqJiJsKeVraCc=",
    "ARGON2I": "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$bi0dMeT6nNn8xmu5ogaUSg$cwmWUOmaOkukf4JEeaNL7k2LwG+/ekhL0k0Jl3iVvP0",
    "PLAIN-MD5": "{PLAIN-MD5}b14c7819204d48a6bf4000279d49eb41",
}


@pytest.mark.parametrize("scheme", sorted(DOVEADM_HASHES))
def test_imported_dovecot_hashes_log_in_and_are_upgraded(client, mailbox, scheme):
    """Issue 14: {SSHA512}, {ARGON2I} and {PLAIN-MD5} mailboxes log in to Dovecot but were refused at /me/."""
    Mailbox.objects.filter(pk=mailbox.pk).update(password=DOVEADM_HASHES[scheme])
    response = login(client, "john@example.org", PW)
    assert response.status_code == 302 and response["Location"] == "/me/"
    mailbox.refresh_from_db()
    assert mailbox.password.startswith("{ARGON2ID}") and verify_argon2id(mailbox.password, PW)


def test_an_unverifiable_hash_does_not_count_toward_the_lockout(client, mailbox):
    # A hash no password can match (unknown scheme, as after a botched import).
    Mailbox.objects.filter(pk=mailbox.pk).update(password="{NTLM}8846f7eaee8fb117ad06bdd830b7586c")
    for _ in range(8):
        page = login(client, "john@example.org", PW)
        assert page.status_code == 200  # refused, never 429: the user typed nothing wrong
    # A wrong password still counts, for the same mailbox.
    Mailbox.objects.filter(pk=mailbox.pk).update(password=DOVEADM_HASHES["SSHA512"])
    for _ in range(5):
        login(client, "john@example.org", "wrong")
    assert login(client, "john@example.org", PW).status_code == 429
