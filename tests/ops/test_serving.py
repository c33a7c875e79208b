import json
import logging

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.urls import path

from ops.logging import JsonFormatter

pytestmark = pytest.mark.django_db


def test_healthz_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_security_headers_on_every_page(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]


def test_session_cookie_flags_and_expiry(client, settings, superadmin):
    from tests.factories import TEST_PASSWORD

    response = client.post("/accounts/login/", {"username": superadmin.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_production_cookies_are_secure():
    import os
    import subprocess
    import sys

    code = ("import django;django.setup();from django.conf import settings as s;"
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.DEBUG)")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mailadmin.settings", DJANGO_DEBUG="0",
               DJANGO_SECRET_KEY="p" * 50, DJANGO_ALLOWED_HOSTS="mail.example.org")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True", "False"]


def test_production_refuses_to_start_without_a_real_secret():
    import os
    import subprocess
    import sys

    for key in ("", "django-insecure-abc", "short"):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="mailadmin.settings", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key)
        result = subprocess.run([sys.executable, "-c", "import django;django.setup()"], env=env,
                                capture_output=True, text=True)
        assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_check_deploy_is_clean():
    import os
    import subprocess
    import sys

    import secrets

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mailadmin.settings", DJANGO_DEBUG="0",
               DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="mail.example.org",
               MAILADMIN_SSL_REDIRECT="1")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests of this process only
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_no_password_reset_by_email(client):
    for url in ("/accounts/password_reset/", "/accounts/password-reset/", "/accounts/reset/x/y/"):
        assert client.get(url).status_code in (302, 404)
    client.force_login(__import__("tests.factories", fromlist=["x"]).SuperadminFactory())
    for url in ("/accounts/password_reset/", "/accounts/password-reset/"):
        assert client.get(url).status_code == 404


def broken_view(request):
    raise OperationalError("connection refused")


def crashing_view(request):
    raise RuntimeError("secret internals")


handler500 = "ops.views.server_error"
urlpatterns = [path("db-down/", broken_view), path("crash/", crashing_view), path("api/v1/db-down", broken_view)]


@override_settings(ROOT_URLCONF="tests.ops.test_serving")
def test_database_errors_become_503_and_others_a_plain_500(superadmin):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(superadmin)
    down = client.get("/db-down/")
    assert down.status_code == 503 and down["Retry-After"] == "10"
    assert b"cannot reach its database" in down.content and b"Traceback" not in down.content
    api = client.get("/api/v1/db-down", HTTP_ACCEPT_LANGUAGE="fr")
    assert api.status_code == 503 and api["Retry-After"] == "10" and api["Content-Type"] == "application/json"
    [error] = api.json()["errors"]
    assert error["code"] == "database_unavailable" and "base de données" in error["message"]
    crash = client.get("/crash/")
    assert crash.status_code == 500 and b"Something went wrong" in crash.content
    assert b"secret internals" not in crash.content


def test_friendly_404(client, superadmin):
    client.force_login(superadmin)
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and b"Page not found" in response.content


def test_json_log_lines():
    record = logging.LogRecord("mailadmin.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.domain = "example.org"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["level"] == "INFO" and line["domain"] == "example.org"


def test_nul_bytes_are_a_400_not_a_500(client, superadmin):
    client.force_login(superadmin)
    assert client.get("/aliases/", {"q": "a\x00b"}).status_code == 400
    assert client.post("/aliases/new/", {"local_part": "x\x00"}).status_code == 400
    assert client.get("/aliases/", {"q": "normal"}).status_code == 200

