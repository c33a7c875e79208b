"""Login throttling (issue 11, items 3 and 4), through the real login views.

One failure counter per account however it is spelt (letter case, username or e-mail), for
admins and mail users; one per client, where the client behind a trusted reverse proxy is the
X-Forwarded-For address and anyone else's X-Forwarded-For is ignored; the current-password
checks of the password pages are throttled and recorded like logins.
"""
import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from accounts.models import Admin
from domains.models import Mailbox
from tests.factories import TEST_PASSWORD, AdminFactory, DomainFactory, MailboxFactory

pytestmark = pytest.mark.django_db

LIMIT = 5


def admin_login(username, password, *, ip="192.0.2.1", forwarded=None):
    headers = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client(**headers).post(reverse("accounts:login"), {"username": username, "password": password})


def mail_login(address, password, *, ip="192.0.2.1"):
    return Client(REMOTE_ADDR=ip).post(reverse("mailuser:login"), {"address": address, "password": password})


@pytest.fixture
def alice(db):
    return AdminFactory(username="alice", email="alice@panel.example")


@pytest.mark.parametrize("spelling", ["ALICE", "Alice", "alice@panel.example", "ALICE@Panel.Example"])
def test_an_admin_account_has_one_counter_however_it_is_spelt(alice, spelling):
    # Each failure from another address, so that only the account's counter can lock.
    for n, failed_as in enumerate(["alice", "Alice", "ALICE", "alice@panel.example", "Alice@PANEL.example"]):
        # The failure that reaches the limit is answered with the lockout page already.
        assert admin_login(failed_as, "wrong", ip=f"198.51.100.{n + 1}").status_code == (200 if n < 4 else 429)
    response = admin_login(spelling, TEST_PASSWORD, ip="203.0.113.9")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"admin:alice"}


def test_a_mailbox_has_one_counter_however_it_is_spelt(db):
    mailbox = MailboxFactory(domain=DomainFactory(name="example.org"), local_part="bob")
    for n, failed_as in enumerate(["bob@example.org", "BOB@example.org", "Bob@Example.Org", " bob@EXAMPLE.org",
                                   "bob@example.ORG"]):
        mail_login(failed_as, "wrong", ip=f"198.51.100.{n + 1}")
    assert mail_login("Bob@example.org", TEST_PASSWORD, ip="203.0.113.9").status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {f"mailbox:{mailbox.address}"}


def test_an_admin_and_a_mailbox_of_the_same_name_do_not_share_a_counter(db):
    domain = DomainFactory(name="example.org")
    MailboxFactory(domain=domain, local_part="carol")
    AdminFactory(username="carol@example.org", email="")
    for n in range(LIMIT):
        mail_login("carol@example.org", "wrong", ip=f"198.51.100.{n + 1}")
    assert admin_login("carol@example.org", TEST_PASSWORD, ip="203.0.113.9").status_code == 302


@pytest.fixture
def behind_proxy(settings):
    settings.MAILADMIN_TRUSTED_PROXIES = ["127.0.0.1", "::1"]


def test_a_flood_behind_the_proxy_does_not_lock_out_other_clients(alice, behind_proxy):
    for n in range(LIMIT + 3):
        admin_login(f"junk{n}", "wrong", ip="127.0.0.1", forwarded="198.51.100.66")
    # The flooding client is locked out...
    assert admin_login("alice", TEST_PASSWORD, ip="127.0.0.1", forwarded="198.51.100.66").status_code == 429
    # ...and nobody else is, admin or mail user.
    assert admin_login("alice", TEST_PASSWORD, ip="127.0.0.1", forwarded="203.0.113.7").status_code == 302
    MailboxFactory(domain=DomainFactory(name="example.org"), local_part="bob")
    response = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8").post(
        reverse("mailuser:login"), {"address": "bob@example.org", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(alice, behind_proxy):
    # Straight to gunicorn, not through the proxy: each try claims another address.
    for n in range(LIMIT):
        admin_login(f"junk{n}", "wrong", ip="198.51.100.66", forwarded=f"203.0.113.{n + 1}")
    response = admin_login("alice", TEST_PASSWORD, ip="198.51.100.66", forwarded="203.0.113.200")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}
    # Through the proxy, the client cannot choose its address by sending its own header:
    # only the address the proxy appended counts.
    for n in range(LIMIT):
        admin_login(f"junk{n}", "wrong", ip="127.0.0.1", forwarded=f"203.0.113.{n + 1}, 192.0.2.77")
    assert admin_login("alice", TEST_PASSWORD, ip="127.0.0.1", forwarded="203.0.113.250, 192.0.2.77") \
        .status_code == 429


def test_without_trusted_proxies_the_header_means_nothing(alice):
    for n in range(LIMIT):
        admin_login(f"junk{n}", "wrong", ip="127.0.0.1", forwarded=f"203.0.113.{n + 1}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@pytest.mark.parametrize("remote,forwarded,trusted,expected", [
    ("192.0.2.1", "203.0.113.1", [], "192.0.2.1"),
    ("127.0.0.1", "203.0.113.1", ["127.0.0.1"], "203.0.113.1"),
    ("127.0.0.1", "1.1.1.1, 203.0.113.1", ["127.0.0.1"], "203.0.113.1"),
    ("10.0.0.2", "203.0.113.1, 10.0.0.1", ["10.0.0.0/24"], "203.0.113.1"),
    ("10.0.0.2", "10.0.0.1", ["10.0.0.0/24"], "10.0.0.1"),
    ("127.0.0.1", "", ["127.0.0.1"], "127.0.0.1"),
    ("127.0.0.1", "not an address", ["127.0.0.1"], "127.0.0.1"),
    ("127.0.0.1", "[2001:db8::1]:443", ["127.0.0.1"], "2001:db8::1"),
    ("::1", "203.0.113.1:5000", ["::1"], "203.0.113.1"),
    ("::ffff:127.0.0.1", "203.0.113.1", ["127.0.0.1"], "203.0.113.1"),
])
def test_client_ip(rf, settings, remote, forwarded, trusted, expected):
    from accounts.throttle import client_ip

    settings.MAILADMIN_TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def _logged_in(admin) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.force_login(admin)
    return client


def test_the_current_password_check_is_throttled_for_admins(alice):
    client = _logged_in(alice)
    new = "a brand new long passphrase"
    for n in range(LIMIT):
        response = client.post(reverse("accounts:password"), {"old_password": f"guess{n}", "new_password1": new,
                                                              "new_password2": new})
        assert response.status_code in (200, 429)
    assert AccessAttempt.objects.get(username="admin:alice").failures_since_start == LIMIT
    response = client.post(reverse("accounts:password"), {"old_password": TEST_PASSWORD, "new_password1": new,
                                                          "new_password2": new})
    assert response.status_code == 429
    assert Admin.objects.get(pk=alice.pk).check_password(TEST_PASSWORD)
    # The account is locked for logins too, as after five failed logins.
    assert admin_login("alice", TEST_PASSWORD, ip="203.0.113.3").status_code == 429


def test_the_current_password_check_is_throttled_for_mail_users(db):
    mailbox = MailboxFactory(domain=DomainFactory(name="example.org"), local_part="bob")
    client = Client(REMOTE_ADDR="192.0.2.10")
    assert client.post(reverse("mailuser:login"), {"address": "bob@example.org", "password": TEST_PASSWORD}) \
        .status_code == 302
    new = "a brand new long passphrase"
    for n in range(LIMIT):
        client.post(reverse("mailuser:password"), {"current": f"guess{n}", "new": new, "new_again": new})
    assert AccessAttempt.objects.get(username="mailbox:bob@example.org").failures_since_start == LIMIT
    response = client.post(reverse("mailuser:password"), {"current": TEST_PASSWORD, "new": new, "new_again": new})
    assert response.status_code == 429
    assert Mailbox.objects.get(pk=mailbox.pk).password == mailbox.password
    assert mail_login("bob@example.org", TEST_PASSWORD, ip="203.0.113.3").status_code == 429


def test_tries_during_a_lockout_do_not_restart_the_cool_off(alice):
    for n in range(LIMIT):
        admin_login("alice", "wrong", ip=f"198.51.100.{n + 1}")

    def attempts():
        return sorted(AccessAttempt.objects.filter(username="admin:alice")
                      .values_list("ip_address", "attempt_time", "failures_since_start"))

    locked = attempts()
    assert len(locked) == LIMIT
    for n in range(3):
        assert admin_login("alice", "wrong", ip=f"203.0.113.{n + 1}").status_code == 429
        assert admin_login("alice", "wrong", ip="198.51.100.1").status_code == 429
    assert attempts() == locked
