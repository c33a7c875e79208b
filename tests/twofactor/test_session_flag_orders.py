"""The session admin's has_confirmed_totp flag never lets a password-only
session past two-factor, whatever the order of events or the code path that loads the admin."""
import pytest
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.backends import AdminBackend
from tests.factories import AdminFactory, SuperadminFactory
from tests.twofactor.test_twofactor import current_code, enrol, login

pytestmark = pytest.mark.django_db


def half(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/2fa/verify/")


def test_flag_is_fresh_per_request_and_matches_the_service():
    admin = AdminFactory()
    assert AdminBackend().get_user(admin.pk).has_confirmed_totp is False
    device = TOTPDevice.objects.create(user=admin, name="x", confirmed=False)
    assert AdminBackend().get_user(admin.pk).has_confirmed_totp is False  # unconfirmed: not enrolled
    device.confirmed = True
    device.save()
    assert AdminBackend().get_user(admin.pk).has_confirmed_totp is True
    admin.is_active = False
    admin.save()
    assert AdminBackend().get_user(admin.pk) is None


def test_device_replaced_elsewhere_unverifies_a_verified_session(client):
    admin = AdminFactory()
    login(client, admin)
    enrol(client, admin)
    assert client.get("/domains/").status_code == 200
    # The device the session was verified with goes; a new confirmed one replaces it.
    TOTPDevice.objects.filter(user=admin).delete()
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    assert half(client.get("/domains/"))
    assert half(client.get("/api/tokens/"))
    assert half(client.get("/2fa/"))


def half_logged_in(client):
    """An admin who enrolled in another session, and `client` logged in with the password only."""
    admin = AdminFactory()
    other = Client()
    login(other, admin)
    enrol(other, admin)
    login(client, admin)
    return admin


def test_half_session_stays_half_across_many_requests_and_login_again(client):
    admin = half_logged_in(client)
    for url in ["/", "/domains/", "/accounts/password/", "/2fa/setup/", "/api/tokens/", "/quota/", "/audit/"]:
        assert half(client.get(url)), url
    # Logging in again with the password (login() puts an unannotated admin on the request).
    login(client, admin)
    assert half(client.get("/domains/"))
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    device.throttle_reset()
    assert client.post("/2fa/verify/", {"code": current_code(device, offset=1)}).status_code == 302
    assert client.get("/domains/").status_code == 200


@override_settings(AUTHENTICATION_BACKENDS=["accounts.backends.AdminBackend",
                                            "django.contrib.auth.backends.ModelBackend"])
def test_a_session_of_another_backend_falls_back_to_asking(client):
    admin = AdminFactory()
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    assert half(client.get("/domains/"))


def test_password_change_keeps_a_half_session_half(client):
    half_logged_in(client)
    # The half-logged-in session cannot reach the password page at all.
    assert half(client.post("/accounts/password/", {}))


@override_settings(MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS=True)
def test_new_superadmin_must_enrol_then_passes(client):
    admin = SuperadminFactory()
    login(client, admin)
    response = client.get("/domains/")
    assert response.status_code == 302 and response["Location"] == "/2fa/setup/"
    enrol(client, admin)
    assert client.get("/domains/").status_code == 200
    assert client.get("/accounts/admins/").status_code == 200
