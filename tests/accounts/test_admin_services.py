import pytest
from django.core.exceptions import ValidationError

from accounts.models import Admin
from accounts.services import admin_delete, admin_update
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
