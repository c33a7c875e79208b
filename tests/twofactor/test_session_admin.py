"""The session's admin carries whether they have a confirmed authenticator, read in the same
query (accounts/backends.py), and the two-factor middleware uses it: one round trip fewer on
every page, with the same answers."""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AdminFactory
from tests.twofactor.test_twofactor import enrol, login

pytestmark = pytest.mark.django_db


def test_a_logged_in_request_does_not_ask_for_devices_separately(client):
    admin = AdminFactory()
    login(client, admin)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if s.startswith('SELECT 1 AS "a" FROM "otp_totp_totpdevice"')], sql
    [admin_query] = [s for s in sql if 'FROM "admin"' in s]
    assert "otp_totp_totpdevice" in admin_query


def test_an_authenticator_confirmed_elsewhere_sends_other_sessions_to_the_code_page(client):
    admin = AdminFactory()
    login(client, admin)
    other = Client()
    login(other, admin)
    enrol(client, admin)  # confirmed in the first session, which is verified by it
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    assert client.get("/domains/").status_code == 200
    # The other session, logged in with the password alone, is half logged in from its next request.
    response = other.get("/domains/")
    assert response.status_code == 302 and response["Location"].startswith("/2fa/verify/")
