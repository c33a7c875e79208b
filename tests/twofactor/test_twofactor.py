import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from tests.factories import TEST_PASSWORD, AdminFactory, SuperadminFactory

pytestmark = pytest.mark.django_db


def current_code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + offset * device.step
    return f"{totp.token():06d}"


def login(client, admin):
    response = client.post("/accounts/login/", {"username": admin.username, "password": TEST_PASSWORD})
    assert response.status_code == 302


def enrol(client, admin) -> list[str]:
    page = client.get("/2fa/setup/")
    assert page.status_code == 200 and b"<svg" in page.content
    secret = re.search(rb'<code class="secret">([A-Z2-7]+)</code>', page.content).group(1)
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    assert len(secret) >= 16
    wrong = client.post("/2fa/setup/", {"code": "000000" if current_code(device) != "000000" else "111111"})
    assert b"not valid" in wrong.content
    device.refresh_from_db()
    device.throttle_reset()
    done = client.post("/2fa/setup/", {"code": current_code(device)})
    assert done.status_code == 200
    return re.findall(rb"<li><code>(\w+)</code></li>", done.content)


def test_enrol_then_code_required_after_password(client):
    admin = AdminFactory()
    login(client, admin)
    codes = enrol(client, admin)
    assert len(codes) == 10
    assert AuditEntry.objects.filter(action="twofactor.enable", actor=admin).exists()
    client.post("/accounts/logout/")
    login(client, admin)
    response = client.get("/audit/")
    assert response.status_code == 302 and response["Location"].startswith("/2fa/verify/")
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    device.throttle_reset()
    # The last code was used at enrolment: the next time step's code is fresh.
    verified = client.post("/2fa/verify/", {"code": current_code(device, offset=1), "next": "/audit/"})
    assert verified.status_code == 302 and verified["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200


def test_backup_code_works_once(client):
    admin = AdminFactory()
    login(client, admin)
    codes = enrol(client, admin)
    client.post("/accounts/logout/")
    login(client, admin)
    assert client.post("/2fa/verify/", {"code": codes[0].decode()}).status_code == 302
    client.post("/accounts/logout/")
    login(client, admin)
    reused = client.post("/2fa/verify/", {"code": codes[0].decode()})
    assert reused.status_code == 200 and b"not valid" in reused.content


def test_wrong_codes_are_throttled(client):
    admin = AdminFactory()
    login(client, admin)
    enrol(client, admin)
    client.post("/accounts/logout/")
    login(client, admin)
    client.post("/2fa/verify/", {"code": "12345x"})
    client.post("/2fa/verify/", {"code": "999999"})
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    blocked = client.post("/2fa/verify/", {"code": current_code(device, offset=1)})
    assert blocked.status_code == 200 and b"Too many wrong codes" in blocked.content


def test_superadmins_must_enrol_when_required(client, settings):
    settings.MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS = True
    superadmin = SuperadminFactory()
    login(client, superadmin)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/2fa/setup/"
    # Domain admins are not forced.
    other = AdminFactory()
    client.post("/accounts/logout/")
    login(client, other)
    assert client.get("/audit/").status_code == 200


def test_disable_needs_a_code(client):
    admin = AdminFactory()
    login(client, admin)
    codes = enrol(client, admin)
    client.post("/2fa/disable/", {"code": "000000x"})
    assert TOTPDevice.objects.filter(user=admin).exists()
    # The failed attempt throttles the devices for a second; clear it rather than sleep.
    StaticDevice.objects.filter(user=admin).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    client.post("/2fa/disable/", {"code": codes[1].decode()})
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert AuditEntry.objects.filter(action="twofactor.disable").exists()


def test_anonymous_cannot_reach_2fa_pages(client):
    for url in ("/2fa/", "/2fa/setup/", "/2fa/verify/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
