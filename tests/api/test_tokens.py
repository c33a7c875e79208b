"""API tokens: shown once, stored hashed, expiring, revocable, managed on their page; throttled per token."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from api.selectors import authenticate_token
from api.services import token_create, token_digest, token_revoke
from audit.models import AuditEntry
from tests.factories import AdminFactory, DomainFactory, SuperadminFactory

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_authenticates_its_admin():
    admin = AdminFactory()
    token, secret = token_create(admin=admin, name="backup script", expires_in_days=30, acting_user=admin)
    assert secret.startswith("mla_") and len(secret) > 40
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == token_digest(secret) and secret not in (row.key_hash, row.prefix)
    assert secret.startswith(row.prefix)
    assert authenticate_token(secret).admin == admin
    assert authenticate_token(secret[:-1] + ("a" if secret[-1] != "a" else "b")) is None
    entry = AuditEntry.objects.get(action="apitoken.create")
    assert secret not in str(entry.after) and entry.actor == admin


def test_token_rules():
    admin = AdminFactory()
    token_create(admin=admin, name="ci", expires_in_days=7, acting_user=admin)
    for kwargs, code in [({"name": "ci", "expires_in_days": 7}, "token_name_taken"),
                         ({"name": " ", "expires_in_days": 7}, "token_name_empty"),
                         ({"name": "other", "expires_in_days": 10_000}, "token_expiry_invalid")]:
        with pytest.raises(ValidationError) as exc:
            token_create(admin=admin, acting_user=admin, **kwargs)
        assert code in str(exc.value.error_dict) or any(e.code == code for errors in exc.value.error_dict.values() for e in errors)


def test_revoked_expired_and_deactivated_tokens_stop_at_once():
    admin = AdminFactory(domains=[DomainFactory()])
    client = Client()
    revoked, revoked_secret = token_create(admin=admin, name="a", expires_in_days=30, acting_user=admin)
    expired, expired_secret = token_create(admin=admin, name="b", expires_in_days=30, acting_user=admin)
    _, live_secret = token_create(admin=admin, name="c", expires_in_days=30, acting_user=admin)
    assert client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {revoked_secret}").status_code == 200
    token_revoke(token=revoked, acting_user=admin)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    for secret in (revoked_secret, expired_secret):
        assert client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {live_secret}").status_code == 200
    admin.is_active = False
    admin.save()
    assert client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {live_secret}").status_code == 401


def test_session_does_not_authenticate_a_write():
    """A logged-in superadmin's browser (cookie, even a valid CSRF token) cannot drive the API."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(SuperadminFactory())
    response = client.post("/api/v1/domains", {"name": "csrf.example"}, content_type="application/json")
    assert response.status_code == 401
    from domains.models import Domain
    assert not Domain.objects.filter(name="csrf.example").exists()


def test_token_page_shows_the_secret_once_and_revokes():
    admin = AdminFactory()
    client = Client()
    client.force_login(admin)
    response = client.post("/api/tokens/", {"name": "deploy", "expires_in_days": "90"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(admin=admin, name="deploy")
    page = response.content.decode()
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert token_digest(secret) == token.key_hash
    assert secret not in client.get("/api/tokens/").content.decode()  # shown once
    other = AdminFactory()
    assert Client().get("/api/tokens/").status_code == 302  # login required
    client_other = Client()
    client_other.force_login(other)
    assert client_other.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404  # not theirs
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_throttled_per_token_in_the_shared_cache(settings):
    settings.MAILADMIN_API_RATE = "3/min"
    admin = SuperadminFactory()
    _, first = token_create(admin=admin, name="one", expires_in_days=7, acting_user=admin)
    _, second = token_create(admin=admin, name="two", expires_in_days=7, acting_user=admin)
    client = Client()
    statuses = [client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {first}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {first}")
    assert response.json()["errors"][0]["code"] == "throttled" and int(response["Retry-After"]) > 0
    assert client.get("/api/v1/domains", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
    # The counters live in the database cache every gunicorn worker shares, not in process memory.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM api_throttle_cache")
        assert cursor.fetchone()[0] == 2


def test_errors_name_code_and_field():
    admin = SuperadminFactory()
    domain = DomainFactory(name="example.org", max_mailboxes=1)
    _, secret = token_create(admin=admin, name="x", expires_in_days=7, acting_user=admin)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()
    body = {"domain_id": domain.pk, "local_part": "bob", "password": "pw"}
    assert client.post("/api/v1/mailboxes", body, content_type="application/json", **auth).status_code == 201
    errors = client.post("/api/v1/mailboxes", body, content_type="application/json", **auth).json()["errors"]
    assert errors[0]["code"] == "address_is_mailbox" and errors[0]["field"] == "local_part"
    errors = client.post("/api/v1/mailboxes", body | {"local_part": "carol"}, content_type="application/json",
                         **auth).json()["errors"]
    assert errors == [{"code": "mailbox_limit_reached", "field": None, "message": errors[0]["message"]}]
    response = client.post("/api/v1/mailboxes", body | {"quota_bytes": -1}, content_type="application/json", **auth)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "quota_bytes"
    response = client.post("/api/v1/aliases", {"domain_id": domain.pk, "local_part": "a\u0000b", "destinations": ["x@y.example"]},
                           content_type="application/json", **auth)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "invalid_characters"
    response = client.get("/api/v1/mailboxes?q=%00", **auth)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "invalid_characters"
    response = client.get("/api/v1/mailboxes/99999", HTTP_ACCEPT_LANGUAGE="fr", **auth)
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"


def test_openapi_schema_and_docs_page():
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    paths = set(schema["paths"])
    assert {"/api/v1/domains", "/api/v1/mailboxes", "/api/v1/aliases", "/api/v1/alias-domains", "/api/v1/quota",
            "/api/v1/admins", "/api/v1/audit", "/api/v1/mailboxes/{mailbox_id}/forwarding"} <= paths
    assert client.get("/api/v1/docs").status_code == 302  # logged-in admins only
    client.force_login(AdminFactory())
    page = client.get("/api/v1/docs")
    html = page.content.decode()
    assert page.status_code == 200
    # Vendored assets, no CDN, no inline script (our CSP: script-src 'self').
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert "<script>" not in html and "script-src 'self'" in page["Content-Security-Policy"]
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_audit_dates_at_the_edges_are_answered_not_crashed():
    admin = SuperadminFactory()
    _, secret = token_create(admin=admin, name="x", expires_in_days=7, acting_user=admin)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()
    assert client.get("/api/v1/audit?date_to=9999-12-30&date_from=1970-01-01", **auth).status_code == 200
    response = client.get("/api/v1/audit?date_to=9999-12-31", **auth)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "date_to"


def test_migrations_create_the_throttle_table():
    """`manage.py migrate` alone must make the shared throttle table (a deployment runs no
    createcachetable; the test runner does, which hid a wrong call once)."""
    import importlib

    migration = importlib.import_module("api.migrations.0001_api_tokens")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE api_throttle_cache")

    class Editor:
        connection = connection

    migration.create_throttle_cache_table(None, Editor())
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('api_throttle_cache') IS NOT NULL")
        assert cursor.fetchone()[0]
