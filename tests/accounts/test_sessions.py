"""Sessions end when an account loses its rights (issue 11, item 5): deactivating, demoting or
deleting an admin; deactivating, deleting or (by an admin) re-passwording a mailbox, or
deactivating its domain. Reactivating never brings an old session back. Each change is made
through the superadmin's or domain admin's real HTTP views, and each victim session is a real
login through the login page."""
import pytest
from django.test import Client
from django.urls import reverse

from domains import services
from tests.factories import TEST_PASSWORD, AdminFactory, DomainFactory, MailboxFactory, SuperadminFactory
from tests.roles import assert_login_redirect

pytestmark = pytest.mark.django_db


def admin_session(admin) -> Client:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": admin.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def mail_session(mailbox) -> Client:
    client = Client()
    response = client.post(reverse("mailuser:login"), {"address": mailbox.address, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert client.get("/me/").status_code == 200
    return client


@pytest.fixture
def root(db) -> Client:
    return admin_session(SuperadminFactory(username="root"))


def _update(root: Client, admin, **fields):
    data = {"role": admin.role, "email": admin.email, "is_active": "on"} | fields
    data = {key: value for key, value in data.items() if value is not None}
    response = root.post(reverse("accounts:admin-update", args=[admin.pk]), data)
    assert response.status_code == 302, response.content


def test_deactivating_an_admin_ends_their_session_and_reactivating_does_not_revive_it(root):
    domain = DomainFactory()
    alice = AdminFactory(domains=[domain])
    victim = admin_session(alice)
    assert victim.get("/domains/").status_code == 200
    _update(root, alice, is_active=None, domains=[domain.pk])
    _update(root, alice, domains=[domain.pk])  # active again before the victim's next request
    assert_login_redirect(victim.get("/domains/"))
    # A fresh login works.
    assert admin_session(alice).get("/domains/").status_code == 200


def test_demoting_a_superadmin_ends_their_session(root):
    other_root = SuperadminFactory(username="root2")
    victim = admin_session(other_root)
    assert victim.get(reverse("accounts:admin-list")).status_code == 200
    _update(root, other_root, role="domain_admin")
    assert_login_redirect(victim.get(reverse("accounts:admin-list")))
    assert_login_redirect(victim.post(reverse("domains:domain-create"), {"name": "grab.example"}))


def test_deleting_an_admin_ends_their_session(root):
    alice = AdminFactory()
    victim = admin_session(alice)
    assert root.post(reverse("accounts:admin-delete", args=[alice.pk])).status_code == 302
    assert_login_redirect(victim.get("/"))


def test_other_changes_keep_the_session(root):
    """Only losing rights ends a session: an e-mail or domain-list change does not."""
    domain = DomainFactory()
    alice = AdminFactory(domains=[domain])
    victim = admin_session(alice)
    _update(root, alice, email="new@panel.example", domains=[domain.pk, DomainFactory().pk])
    assert victim.get("/domains/").status_code == 200


@pytest.fixture
def mailbox(db):
    return MailboxFactory(domain=DomainFactory(name="example.org"), local_part="bob")


@pytest.fixture
def postmaster(mailbox) -> Client:
    return admin_session(AdminFactory(domains=[mailbox.domain]))


def _me_is_closed(client: Client) -> None:
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/me/login/")


def test_deactivating_a_mailbox_ends_its_sessions_for_good(mailbox, postmaster):
    victim = mail_session(mailbox)
    url = reverse("domains:mailbox-set-active", args=[mailbox.pk])
    assert postmaster.post(url, {"active": "0", "confirmed": "1"}).status_code == 302
    assert postmaster.post(url, {"active": "1"}).status_code == 302
    _me_is_closed(victim)
    mail_session(mailbox)  # logging in again works


def test_deactivating_the_domain_ends_its_mail_users_sessions(mailbox, root):
    victim = mail_session(mailbox)
    url = reverse("domains:domain-set-active", args=[mailbox.domain.pk])
    assert root.post(url, {"active": "0", "confirmed": "1"}).status_code == 302
    assert root.post(url, {"active": "1"}).status_code == 302
    _me_is_closed(victim)


def test_deleting_a_mailbox_ends_its_sessions(mailbox, postmaster):
    victim = mail_session(mailbox)
    assert postmaster.post(reverse("domains:mailbox-delete", args=[mailbox.pk])).status_code == 302
    _me_is_closed(victim)
    # The same address created again is another mailbox: the old session stays closed.
    services.mailbox_create(domain=mailbox.domain, local_part="bob", password=TEST_PASSWORD, acting_user=None)
    _me_is_closed(victim)


def test_an_admin_setting_the_password_ends_the_mail_users_sessions(mailbox, postmaster):
    victim = mail_session(mailbox)
    response = postmaster.post(reverse("domains:mailbox-password", args=[mailbox.pk]),
                               {"password": "a long new passphrase", "password_confirm": "a long new passphrase"})
    assert response.status_code == 302
    _me_is_closed(victim)


def test_other_mailbox_changes_keep_the_session(mailbox, postmaster):
    victim = mail_session(mailbox)
    response = postmaster.post(reverse("domains:mailbox-update", args=[mailbox.pk]),
                               {"name": "Bob", "quota_bytes": "1G", "active": "on"})
    assert response.status_code == 302
    assert victim.get("/me/").status_code == 200
