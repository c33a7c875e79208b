"""The cached dashboard totals and usage overview never show an admin another scope's
figures: not a superadmin's (cached first), not after a role change or a domain taken away;
a deactivated admin is logged out; the cache holds display values only."""
import pickle

import pytest
from django.core.cache import cache

from accounts.models import Admin
from tests.factories import AdminFactory
from tests.quota.test_quota import data  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def dashboard(client, user):
    client.force_login(user)
    return client.get("/").content.decode()


def test_domain_admin_never_gets_the_superadmin_s_cached_figures(client, data, superadmin):
    assert "full@a.example" in dashboard(client, superadmin)
    assert "full@a.example" in client.get("/quota/").content.decode()
    admin = AdminFactory(domains=[data["b"]])
    for url in ("/", "/quota/", f"/quota/?domain={data['a'].pk}"):
        client.force_login(admin)
        body = client.get(url).content.decode()
        assert "full@a.example" not in body and "high@a.example" not in body, url


def test_role_change_changes_the_scope_at_once(client, data):
    admin = AdminFactory(role=Admin.Role.SUPERADMIN, domains=[data["b"]])
    assert "full@a.example" in dashboard(client, admin)
    admin.role = Admin.Role.DOMAIN_ADMIN
    admin.save()
    body = dashboard(client, admin)
    assert "full@a.example" not in body and "other@b.example" in body
    admin.role = Admin.Role.SUPERADMIN
    admin.save()
    assert "full@a.example" in dashboard(client, admin)


def test_domain_taken_away_or_admin_deactivated(client, data):
    admin = AdminFactory(domains=[data["a"], data["b"]])
    client.force_login(admin)
    assert "full@a.example" in client.get("/").content.decode()
    admin.domains.remove(data["a"])
    assert "full@a.example" not in client.get("/").content.decode()
    assert "full@a.example" not in client.get("/quota/").content.decode()
    admin.is_active = False
    admin.save()
    resp = client.get("/")
    assert resp.status_code == 302 and "full@a.example" not in resp.content.decode()


def test_cache_holds_no_password_hash(client, data, superadmin):
    dashboard(client, superadmin)
    client.get(f"/quota/?domain={data['a'].pk}")
    client.get(f"/domains/{data['a'].pk}/")
    blob = b"".join(pickle.dumps(v) for v in cache._cache.values())
    assert blob and b"$argon2" not in blob and b"{ARGON2" not in blob.upper()
