"""Two superadmins demoting or deleting each other at the same moment still leave one."""
import pytest
from django.core.exceptions import ValidationError

from accounts.models import Admin
from accounts.services import admin_create, admin_delete, admin_update
from tests.domains.test_concurrency import run_concurrently
from tests.factories import SuperadminFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("how", ["demote", "deactivate", "delete"])
def test_concurrent_changes_never_leave_zero_active_superadmins(how):
    admins = [SuperadminFactory() for _ in range(4)]

    def work(i):
        target, actor = admins[i], admins[(i + 1) % 4]
        if how == "demote":
            return admin_update(admin=target, role=Admin.Role.DOMAIN_ADMIN, acting_user=actor)
        if how == "deactivate":
            return admin_update(admin=target, is_active=False, acting_user=actor)
        # From the CLI: an acting admin could be one of those being deleted.
        return admin_delete(admin=target, acting_user=None)

    results = run_concurrently(4, work)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], ValidationError) and refused[0].code == "last_superadmin"
    assert Admin.objects.filter(role=Admin.Role.SUPERADMIN, is_active=True).count() == 1


def test_concurrent_creations_of_one_name_in_two_cases_leave_one_admin():
    actor = SuperadminFactory()
    names = ["dave", "DAVE", "Dave", "daVe"]
    results = run_concurrently(4, lambda i: admin_create(username=names[i], password="A-long-enough-passphrase-1",
                                                         acting_user=actor))
    created = [r for r in results if isinstance(r, Admin)]
    refused = [r for r in results if not isinstance(r, Admin)]
    assert len(created) == 1, results
    assert all(isinstance(r, ValidationError) and "An admin with this username already exists." in r.messages
               for r in refused), refused
    assert Admin.objects.filter(username__iexact="dave").count() == 1
