"""Audit history belongs to the domain's identity, not its name (issue 11, low)."""
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from audit.selectors import audit_entries_for
from domains import services
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


def test_a_recreated_domains_new_admin_does_not_see_the_previous_tenants_history():
    old = services.domain_create(name="shop.example", acting_user=None)
    services.mailbox_create(domain=old, local_part="secret-ceo", name="Previous tenant's CEO",
                            password="pw-123456789", acting_user=None)
    services.domain_delete(domain=old, acting_user=None)

    new = services.domain_create(name="shop.example", acting_user=None)
    services.mailbox_create(domain=new, local_part="newcomer", password="pw-123456789", acting_user=None)
    new_admin = AdminFactory(domains=[new])

    visible = list(audit_entries_for(new_admin))
    assert {e.object_repr for e in visible} == {"newcomer@shop.example", "shop.example"}
    client = Client()
    client.force_login(new_admin)
    for query in ({}, {"domain": "shop.example"}):
        page = client.get(reverse("audit:log"), query).content.decode()
        assert "newcomer@shop.example" in page
        assert "secret-ceo" not in page and "Previous tenant" not in page
    # The superadmin still sees the whole story.
    assert AuditEntry.objects.filter(object_repr="secret-ceo@shop.example").count() == 1


def test_entries_carry_the_domains_id():
    domain = services.domain_create(name="id.example", acting_user=None)
    services.mailbox_create(domain=domain, local_part="a", password="pw-123456789", acting_user=None)
    assert set(AuditEntry.objects.values_list("domain_id", flat=True)) == {domain.pk}
