import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.models import Admin
from accounts.services import admin_create, admin_set_password, ensure_superadmin
from audit.models import AuditEntry
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def test_admin_create_with_domains_and_policy():
    domain = DomainFactory()
    admin = admin_create(username="alice", email="alice@example.org", password="a long enough passphrase",
                         domains=[domain], acting_user=None)
    assert admin.role == Admin.Role.DOMAIN_ADMIN and list(admin.domains.all()) == [domain]
    assert admin.can_manage_domain(domain.pk) and not admin.can_manage_domain(domain.pk + 1)
    entry = AuditEntry.objects.get(action="admin.create")
    assert entry.after["domains"] == [domain.name] and "password" not in entry.after
    with pytest.raises(ValidationError) as exc:
        admin_create(username="bob", password="short", acting_user=None)
    assert "password" in exc.value.error_dict


def test_admin_login_by_username_or_email(rf):
    admin_create(username="alice", email="Alice@Example.org", password="a long enough passphrase", acting_user=None)
    request = rf.post("/accounts/login/")
    assert authenticate(request, username="alice", password="a long enough passphrase") is not None
    assert authenticate(request, username="alice@example.org", password="a long enough passphrase") is not None
    assert authenticate(request, username="alice", password="wrong") is None
    assert authenticate(request, username="nobody", password="x") is None


def test_admin_set_password_audited():
    admin = admin_create(username="alice", password="a long enough passphrase", acting_user=None)
    admin_set_password(admin=admin, password="another long passphrase", acting_user=admin)
    admin.refresh_from_db()
    assert admin.check_password("another long passphrase")
    assert AuditEntry.objects.filter(action="admin.password", actor=admin).exists()


def test_ensure_superadmin_once(capsys):
    call_command("bootstrap_superadmin")
    out = capsys.readouterr().out
    assert "Created superadmin" in out and "'admin'" in out
    password = out.split("password: ")[1].split()[0]
    assert Admin.objects.get(username="admin").check_password(password)
    assert ensure_superadmin(username="admin", password="x") is None
    call_command("bootstrap_superadmin")
    assert "already exists" in capsys.readouterr().out
