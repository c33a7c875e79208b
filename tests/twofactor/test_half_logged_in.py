"""A password alone must not get past two-factor (issue 11, item 1).

A half-logged-in session (password given, code not yet) of an admin who has a confirmed
device reaches the code page, logout and the public pages, nothing else: every other URL of
the project, GET or POST, htmx or not, answers with a redirect to the code page and changes
nothing. Enrolment never replaces a confirmed device; new backup codes and turning two-factor
off ask for a current code.
"""
import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Admin
from audit.models import AuditEntry
from tests.factories import TEST_PASSWORD, AdminFactory, SuperadminFactory
from tests.roles import assert_code_page_redirect, every_url, make_world
from tests.twofactor.test_twofactor import current_code, enrol, login

pytestmark = pytest.mark.django_db

# What a half-logged-in session may use: the code page, logout, and the views that anonymous
# visitors may use too (login pages, health check, the mail users' pages with their own login).
# Public views (open to anonymous visitors) stay open: the language switch lets a French admin
# read the code page in French, and changes nothing but the language.
OPEN = {"twofactor:verify", "accounts:logout", "accounts:login", "healthz", "mailuser:home", "mailuser:login",
        "mailuser:logout", "mailuser:password", "mailuser:forwarding", "set_language", "favicon",
        "mailaccess-me:app-passwords", "mailaccess-me:app-password-revoke", "mailaccess-me:send-as"}
OPEN |= {"mailuser:vacation"}   # vacation replies: a mail user page too


def _state(admin: Admin) -> tuple:
    return (list(TOTPDevice.objects.filter(user=admin).values_list("pk", "key", "confirmed").order_by("pk")),
            sorted(StaticToken.objects.filter(device__user=admin).values_list("token", flat=True)),
            Admin.objects.get(pk=admin.pk).password, AuditEntry.objects.count())


@pytest.fixture
def world():
    world = make_world()
    StaticToken.objects.create(device=StaticDevice.objects.create(user=world.half_2fa, name="backup codes"),
                               token="backup01")
    return world


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_every_url_sends_a_half_logged_in_admin_to_the_code_page(world, method, htmx):
    client = world.client("half_2fa")
    before = _state(world.half_2fa)
    headers = {"HX-Request": "true"} if htmx else {}
    checked = []
    for name, path in every_url(world):
        if name in OPEN:
            continue
        if name.startswith("api:") and name not in ("api:openapi-view", "api:api-root"):
            # The REST API ignores sessions (token only): the session gets what anonymous gets,
            # the public schema or a 401, never data (tests/api/test_roles.py).
            response = getattr(client, method)(path)
            assert response.status_code in ((200,) if name == "api:openapi-json" else (401, 405)), name
            continue
        response = getattr(client, method)(path, {"code": "backup01", "old_password": TEST_PASSWORD,
                                                  "new_password1": "x" * 20, "new_password2": "x" * 20},
                                           headers=headers)
        assert_code_page_redirect(response)
        assert "no-store" in response["Cache-Control"], name
        checked.append(name)
    # Everything under /2fa/ but the code page is closed, as is password change.
    assert {"twofactor:status", "twofactor:setup", "twofactor:backup-codes", "twofactor:disable",
            "accounts:password", "domains:dashboard", "quota:export"} <= set(checked)
    assert _state(world.half_2fa) == before
    # The backup code was not spent either: it still opens the session at the code page.
    assert client.post("/2fa/verify/", {"code": "backup01", "next": "/audit/"})["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200


def test_the_issue_attack_with_only_the_password(client):
    """The steps of the report: setup, confirm and backup codes with the password alone."""
    victim = AdminFactory()
    login(client, victim)
    codes = enrol(client, victim)
    owner_device = TOTPDevice.objects.get(user=victim, confirmed=True)
    client.post("/accounts/logout/")

    attacker = type(client)()
    login(attacker, victim)
    assert_code_page_redirect(attacker.get("/2fa/setup/"))
    assert not TOTPDevice.objects.filter(user=victim, confirmed=False).exists()
    assert_code_page_redirect(attacker.post("/2fa/setup/", {"code": "123456"}))
    assert_code_page_redirect(attacker.post("/2fa/backup-codes/"))
    assert_code_page_redirect(attacker.post("/2fa/disable/", {"code": "123456"}))
    assert list(TOTPDevice.objects.filter(user=victim)) == [owner_device]
    assert sorted(StaticToken.objects.filter(device__user=victim).values_list("token", flat=True)) == \
        sorted(c.decode() for c in codes)
    assert_code_page_redirect(attacker.get("/"))


def _verified_client(client, admin) -> None:
    login(client, admin)
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    device.throttle_reset()
    assert client.post("/2fa/verify/", {"code": current_code(device, offset=1)}).status_code == 302


def test_enrolment_never_replaces_a_confirmed_device(client):
    admin = AdminFactory()
    login(client, admin)
    enrol(client, admin)
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    # Even fully logged in, setting up again is refused until two-factor is turned off.
    response = client.get("/2fa/setup/")
    assert response.status_code == 302 and response["Location"] == "/2fa/"
    assert not TOTPDevice.objects.filter(user=admin, confirmed=False).exists()
    # An unconfirmed device left from before cannot be confirmed over the confirmed one.
    stale = TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=False)
    response = client.post("/2fa/setup/", {"code": current_code(stale)})
    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=admin, confirmed=True)) == [device]
    stale.refresh_from_db()
    assert not stale.confirmed
    assert "already on" in client.get("/2fa/").content.decode()


def test_new_backup_codes_need_a_current_code(client):
    admin = AdminFactory()
    login(client, admin)
    old = enrol(client, admin)
    device = TOTPDevice.objects.get(user=admin, confirmed=True)

    def tokens():
        return sorted(StaticToken.objects.filter(device__user=admin).values_list("token", flat=True))

    before = tokens()
    for data in ({}, {"code": "000000" if current_code(device, 1) != "000000" else "111111"}):
        response = client.post("/2fa/backup-codes/", data)
        assert response.status_code == 302 and response["Location"] == "/2fa/"
        assert tokens() == before
        StaticDevice.objects.filter(user=admin).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        TOTPDevice.objects.filter(user=admin).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert not AuditEntry.objects.filter(action="twofactor.backup_codes").exists()
    # A backup code works as the current code (the authenticator may be the thing lost).
    response = client.post("/2fa/backup-codes/", {"code": old[0].decode()})
    assert response.status_code == 200
    new = re.findall(rb"<li><code>(\w+)</code></li>", response.content)
    assert len(new) == 10 and tokens() == sorted(c.decode() for c in new)
    assert AuditEntry.objects.filter(action="twofactor.backup_codes", actor=admin).count() == 1


def test_forced_enrolment_still_works_for_a_superadmin_without_a_device(client, settings):
    settings.MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS = True
    superadmin = SuperadminFactory()
    login(client, superadmin)
    assert client.get("/accounts/admins/")["Location"] == "/2fa/setup/"
    assert client.get("/2fa/").status_code == 200
    assert len(enrol(client, superadmin)) == 10
    assert client.get("/accounts/admins/").status_code == 200


@pytest.mark.parametrize("path", ["/2fa/setup", "/2fa//setup/", "/2FA/setup/", "/2fa/verify/../setup/",
                                  "/2fa/verify/%2e%2e/setup/", "/2fa/setup/?next=/2fa/verify/",
                                  "/accounts/password", "/no-such-page/"])
def test_path_tricks_do_not_open_anything(world, path):
    client = world.client("half_2fa")
    before = _state(world.half_2fa)
    for method in ("get", "post"):
        response = getattr(client, method)(path, {"code": "backup01", "language": "fr"})
        assert_code_page_redirect(response)
    assert _state(world.half_2fa) == before


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_the_code_page_does_not_redirect_off_site(world, next_url):
    client = world.client("half_2fa")
    response = client.post("/2fa/verify/", {"code": "backup01", "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_language_switch_works_on_the_code_page_and_opens_nothing(world):
    client = world.client("half_2fa")
    before = _state(world.half_2fa)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/2fa/verify/"})
    assert response.status_code == 302 and response["Location"] == "/2fa/verify/"
    assert 'lang="fr"' in client.get("/2fa/verify/").content.decode()
    assert_code_page_redirect(client.get("/"))
    assert _state(world.half_2fa) == before
