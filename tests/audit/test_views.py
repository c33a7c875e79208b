import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from audit.selectors import entry_changes
from domains import services
from tests.roles import ROLES, check_role, make_world

pytestmark = pytest.mark.django_db

URL = reverse("audit:log")


@pytest.fixture
def world():
    world = make_world()
    services.alias_create(domain=world.domain, local_part="sales", destinations=["a@x.example"],
                          acting_user=world.domain_admin)
    services.alias_create(domain=world.other_domain, local_part="hidden", destinations=["b@x.example"],
                          acting_user=world.other_admin)
    services.mailbox_set_password(mailbox=world.mailbox, password="s3cret-Passw0rd!", acting_user=world.superadmin)
    from accounts.services import admin_create
    admin_create(username="newbie", password="another long passphrase", acting_user=world.superadmin)
    return world


def _objects(response) -> list[str]:
    return [entry.object_repr for entry in response.context["page"].object_list]


@pytest.mark.parametrize("role", ROLES)
def test_audit_log_role_matrix(world, role):
    response = world.client(role).get(URL)
    if not check_role(world, role, response, allowed={"superadmin", "domain_admin", "other_admin"}, ok=(200,)):
        return
    body = response.content.decode()
    assert ("sales@example.org" in body) == (role in {"superadmin", "domain_admin"})
    assert ("hidden@other.example" in body) == (role in {"superadmin", "other_admin"})
    # Admin accounts are nobody's domain: superadmins only.
    assert ("newbie" in body) == (role == "superadmin")
    assert "s3cret" not in body and "password_hash" not in body


@pytest.mark.parametrize("role", ROLES)
def test_audit_domain_filter_is_scoped(world, role):
    response = world.client(role).get(URL, {"domain": "example.org"}, headers={"HX-Request": "true",
                                                                               "HX-Target": "audit-table"})
    if not check_role(world, role, response, allowed={"superadmin", "domain_admin"}, ok=(200,),
                      secrets=("sales@example.org",)):
        return
    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="audit-table"')
    assert "sales@example.org" in body and "hidden@other.example" not in body


def test_audit_filters(world):
    client = world.client("superadmin")
    assert _objects(client.get(URL, {"action": "alias.create"})) == ["hidden@other.example", "sales@example.org"]
    assert _objects(client.get(URL, {"action": "alias."})) == ["hidden@other.example", "sales@example.org"]
    assert _objects(client.get(URL, {"actor": "alice"})) == ["sales@example.org"]
    assert _objects(client.get(URL, {"domain": "EXAMPLE.ORG", "action": "mailbox.password"})) == ["bob@example.org"]
    today = timezone.localdate()
    assert len(_objects(client.get(URL, {"date_from": today, "date_to": today}))) == 4
    AuditEntry.objects.update(created=timezone.now() - datetime.timedelta(days=3))
    assert _objects(client.get(URL, {"date_from": today})) == []
    assert len(_objects(client.get(URL, {"date_to": today - datetime.timedelta(days=3)}))) == 4


@pytest.mark.parametrize("params,field,code", [
    ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "date_to", "date_range_inverted"),
    ({"date_from": "yesterday"}, "date_from", "invalid"),
    ({"action": "drop.table"}, "action", "invalid_choice"),
    ({"domain": "not a domain"}, "domain", "domain_invalid"),
])
def test_audit_filter_errors(world, params, field, code):
    response = world.client("superadmin").get(URL, params)
    assert response.status_code == 200
    assert response.context["form"].has_error(field, code)
    assert _objects(response) == []


def test_readable_diff(world):
    alias = world.domain.aliases.get(address="sales@example.org")
    services.alias_update(alias=alias, destinations=["c@x.example", "d@x.example"], active=False,
                          acting_user=world.domain_admin)
    entry = AuditEntry.objects.filter(action="alias.update").first()
    changes = {change.field: (change.before, change.after) for change in entry_changes(entry)}
    assert changes == {"active": ("yes", "no"), "destinations": ("a@x.example", "c@x.example, d@x.example")}
    services.mailbox_update(mailbox=world.mailbox, quota_bytes=10 * 1024**3, acting_user=world.superadmin)
    entry = AuditEntry.objects.filter(action="mailbox.update").first()
    changes = {change.field: (change.before, change.after) for change in entry_changes(entry)}
    assert changes == {"quota": ("unlimited", "10G")}
    created = AuditEntry.objects.filter(action="alias.create", domain_name="example.org").get()
    assert [change.field for change in entry_changes(created)] == ["active", "address", "destinations"]
    body = world.client("domain_admin").get(URL).content.decode()
    assert "<del>a@x.example</del>" in body and "<ins>c@x.example, d@x.example</ins>" in body


def test_audit_log_query_count(world, django_assert_max_num_queries):
    for n in range(40):
        services.alias_create(domain=world.domain, local_part=f"a{n}", destinations=["z@x.example"],
                              acting_user=world.domain_admin)
    for role, limit in (("superadmin", 5), ("domain_admin", 6)):
        getattr(world, role).list_page_size = 50
        getattr(world, role).save()
        client = world.client(role)
        with django_assert_max_num_queries(limit):
            response = client.get(URL, {"domain": "example.org"})
        assert len(response.context["page"].object_list) >= 40


def test_audit_pages_without_counting(world, monkeypatch):
    monkeypatch.setattr("audit.views.page_size_for", lambda request: 2)
    client = world.client("superadmin")
    first = client.get(URL)
    assert [e.action for e in first.context["page"].object_list] == ["admin.create", "mailbox.password"]
    body = first.content.decode()
    assert "Entries 1 to 2, newest first" in body and 'rel="next"' in body and 'rel="prev"' not in body
    last = client.get(URL, {"page": 2})
    assert len(last.context["page"].object_list) == 2 and 'rel="next"' not in last.content.decode()
    assert client.get(URL, {"page": "junk"}).context["page"].number == 1
    assert client.get(URL, {"page": 99}).context["page"].object_list == []
