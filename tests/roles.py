"""The role matrix every admin view is tested against.

Five visitors: nobody logged in; a mail user's session (no Django login, only
session["mailbox_id"], as the mail user pages set it); a superadmin; the domain admin of
the domain concerned; and the domain admin of another domain, who must get a 404 and
never a byte of the other domain's data.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Admin
from domains.models import Domain, Mailbox
from tests.factories import AdminFactory, DomainFactory, MailboxFactory, SuperadminFactory

ROLES = ("anonymous", "mail_user", "superadmin", "domain_admin", "other_admin")


@dataclass
class World:
    domain: Domain
    other_domain: Domain
    mailbox: Mailbox
    superadmin: Admin
    domain_admin: Admin
    other_admin: Admin

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
                 other_admin=AdminFactory(username="mallory", domains=[other]))


def assert_login_redirect(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def check_role(world: World, role: str, response, *, allowed: set[str], ok: tuple[int, ...] = (200, 302),
               secrets: tuple[str, ...] = ()) -> bool:
    """Assert the response fits the role; True when the view did its work for that role."""
    if role in ("anonymous", "mail_user"):
        assert_login_redirect(response)
        return False
    if role in allowed:
        assert response.status_code in ok, (role, response.status_code)
        return True
    assert response.status_code == 404, (role, response.status_code)
    body = response.content.decode()
    for secret in secrets:
        assert secret not in body
    return False


# --- the REST API (api/) ---------------------------------------------------------------
# The API authenticates by token only: a session cookie, a revoked or an expired token
# count for nothing (401), whoever the session or token belongs to.
API_ROLES = ("anonymous", "admin_session", "mail_user", "revoked_token", "expired_token",
             "superadmin", "domain_admin", "other_admin")
API_UNAUTHENTICATED = ("anonymous", "admin_session", "mail_user", "revoked_token", "expired_token")


def api_client(world: World, role: str) -> tuple[Client, dict[str, str]]:
    """A client and the extra request headers (a bearer token, or none) for an API role."""
    import datetime

    from django.utils import timezone

    from api.models import ApiToken
    from api.services import token_create, token_revoke

    if role == "admin_session":
        client = Client()
        client.force_login(world.superadmin)
        return client, {}
    if role in ("anonymous", "mail_user"):
        return world.client(role), {}
    owner = world.superadmin if role in ("revoked_token", "expired_token") else getattr(world, role)
    token, secret = token_create(admin=owner, name=f"matrix-{role}", expires_in_days=30, acting_user=owner)
    if role == "revoked_token":
        token_revoke(token=token, acting_user=owner)
    elif role == "expired_token":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
