import pytest
from django.core.exceptions import ValidationError

from accounts.models import Admin
from accounts.services import admin_create, admin_delete, admin_update
from audit.models import AuditEntry
from tests.factories import AdminFactory, DomainFactory, SuperadminFactory

pytestmark = pytest.mark.django_db


def test_admin_update_changes_and_audits(superadmin, domain, domain_admin):
    other = DomainFactory(name="other.example")
    admin_update(admin=domain_admin, domains=[other], email=" new@panel.example ", acting_user=superadmin)
    domain_admin.refresh_from_db()
    assert list(domain_admin.domains.all()) == [other] and domain_admin.email == "new@panel.example"
    entry = AuditEntry.objects.get(action="admin.update")
    assert entry.before["domains"] == ["example.org"] and entry.after["domains"] == ["other.example"]
    assert "password" not in entry.before and "password" not in entry.after


def test_admin_update_rejects_an_unknown_role(superadmin, domain_admin):
    with pytest.raises(ValidationError) as excinfo:
        admin_update(admin=domain_admin, role="god", acting_user=superadmin)
    assert "role" in excinfo.value.message_dict


def test_inactive_superadmins_do_not_count(superadmin):
    SuperadminFactory(is_active=False)
    for changes in ({"role": Admin.Role.DOMAIN_ADMIN}, {"is_active": False}):
        with pytest.raises(ValidationError) as excinfo:
            admin_update(admin=superadmin, acting_user=None, **changes)
        assert excinfo.value.code == "last_superadmin"
    with pytest.raises(ValidationError):
        admin_delete(admin=superadmin, acting_user=None)


def test_domain_admins_come_and_go_freely(superadmin):
    admin = AdminFactory()
    admin_update(admin=admin, is_active=False, acting_user=superadmin)
    admin_delete(admin=admin, acting_user=superadmin)
    assert not Admin.objects.filter(pk=admin.pk).exists()
    with pytest.raises(ValidationError) as excinfo:
        admin_delete(admin=superadmin, acting_user=superadmin)
    assert excinfo.value.code == "admin_delete_self"


PASSPHRASE = "A-long-enough-passphrase-1"


def test_usernames_are_unique_whatever_the_case(superadmin):
    AdminFactory(username="Alice")
    with pytest.raises(ValidationError) as caught:
        admin_create(username="alice", password=PASSPHRASE, acting_user=superadmin)
    assert "An admin with this username already exists." in caught.value.messages


def test_email_addresses_are_unique_whatever_the_case(superadmin):
    AdminFactory(email="Alice@Example.org")
    with pytest.raises(ValidationError) as caught:
        admin_create(username="someone", email="alice@example.ORG", password=PASSPHRASE, acting_user=superadmin)
    assert "An admin with this e-mail address already exists." in caught.value.messages
    other = AdminFactory(email="other@example.org")
    with pytest.raises(ValidationError) as caught:
        admin_update(admin=other, email="ALICE@example.org", acting_user=superadmin)
    assert "An admin with this e-mail address already exists." in caught.value.messages
    other.refresh_from_db()
    assert other.email == "other@example.org"


def test_admins_without_an_email_address_do_not_clash(superadmin):
    AdminFactory(email="")
    assert admin_create(username="second", email="", password=PASSPHRASE, acting_user=superadmin).email == ""


def test_login_by_username_wins_over_another_admins_email():
    from accounts.backends import AdminBackend

    by_name = AdminFactory(username="bob@example.org", password="Password-of-bob-1")
    AdminFactory(username="carol", email="BOB@example.org", password="Password-of-carol-1")
    assert AdminBackend().authenticate(None, username="BOB@example.org", password="Password-of-bob-1") == by_name
    assert AdminBackend().authenticate(None, username="BOB@example.org", password="Password-of-carol-1") is None
