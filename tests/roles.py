"""The role matrix every admin view is tested against.

Six visitors: nobody logged in; a mail user's session (no Django login, only
session["mailbox_id"], as the mail user pages set it); an admin of the domain concerned who
has two-factor on and gave the password but not yet a code ("half_2fa", who must be sent to
the code page by every view); a superadmin; the domain admin of the domain concerned; and the domain admin of
another domain, who must get a 404 and never a byte of the other domain's data.

Every response to a visitor with a session login (all but "anonymous") must say
`Cache-Control: no-store`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Admin
from domains.models import Domain, Mailbox
from tests.factories import AdminFactory, DomainFactory, MailboxFactory, SuperadminFactory

ROLES = ("anonymous", "mail_user", "half_2fa", "superadmin", "domain_admin", "other_admin")
# Roles that no admin view may serve.
NOT_LOGGED_IN = ("anonymous", "mail_user", "half_2fa")


@dataclass
class World:
    domain: Domain
    other_domain: Domain
    mailbox: Mailbox
    superadmin: Admin
    domain_admin: Admin
    other_admin: Admin
    half_2fa: Admin

    def client(self, role: str) -> Client:
        client = Client()
        if role == "mail_user":
            session = client.session
            session["mailbox_id"] = self.mailbox.pk
            session.save()
        elif role != "anonymous":
            client.force_login(getattr(self, role))
        return client


def make_world() -> World:
    domain = DomainFactory(name="example.org")
    other = DomainFactory(name="other.example")
    return World(domain=domain, other_domain=other, mailbox=MailboxFactory(domain=domain, local_part="bob"),
                 superadmin=SuperadminFactory(username="root"), domain_admin=AdminFactory(username="alice", domains=[domain]),
                 other_admin=AdminFactory(username="mallory", domains=[other]),
                 half_2fa=_with_totp_device(AdminFactory(username="alice2fa", domains=[domain])))


def _with_totp_device(admin: Admin) -> Admin:
    """A confirmed authenticator: force_login then leaves the session half logged in."""
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    return admin


def assert_login_redirect(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def assert_code_page_redirect(response) -> None:
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith("/2fa/verify/"), response["Location"]


def assert_not_let_in(role: str, response) -> None:
    """The answer to a visitor who may use no admin view: the login page, or the code page."""
    if role == "half_2fa":
        assert_code_page_redirect(response)
    else:
        assert_login_redirect(response)


def assert_no_store(role: str, response) -> None:
    if role != "anonymous":
        assert "no-store" in response.get("Cache-Control", ""), (role, response.get("Cache-Control"))


def check_role(world: World, role: str, response, *, allowed: set[str], ok: tuple[int, ...] = (200, 302),
               secrets: tuple[str, ...] = ()) -> bool:
    """Assert the response fits the role; True when the view did its work for that role."""
    assert_no_store(role, response)
    if role in NOT_LOGGED_IN:
        assert_not_let_in(role, response)
        return False
    if role in allowed:
        assert response.status_code in ok, (role, response.status_code)
        return True
    assert response.status_code == 404, (role, response.status_code)
    body = response.content.decode()
    for secret in secrets:
        assert secret not in body
    return False


def every_url(world: World) -> list[tuple[str, str]]:
    """(url name, path) for every URL pattern of the project, integer arguments filled with
    the world domain's pk (views that take another object answer 404, which is enough for
    checks that must hold whatever the view does: the two-factor gate, the cache headers)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                route = re.sub(r"<int:\w+>", str(world.domain.pk), route)
                assert "<" not in route, f"fill in the argument of {route}"
                found.append((f"{namespace}{pattern.name}", "/" + route))

    walk(get_resolver().url_patterns, "", "")
    return found
