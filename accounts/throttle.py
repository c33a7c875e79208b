"""Login throttling (django-axes) keyed by the real account and the real client.

Two callables for django-axes' own settings, and helpers for the password checks that are
not logins (the current password on /accounts/password/ and /me/password/):

- AXES_USERNAME_CALLABLE = account_key: one failure counter per account, however the login
  was spelt (any letter case, the username or the e-mail address of an admin; a mailbox
  address in any case or with a Unicode domain).
- AXES_CLIENT_IP_CALLABLE = client_ip: the client's address, read from X-Forwarded-For only
  when the connection comes from one of MAILADMIN_TRUSTED_PROXIES.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest

# Marks credentials as a mailbox's (accounts/mailusers.py), not an admin's.
MAILBOX_REALM = "mailbox"


def mailbox_credentials(address: str) -> dict[str, str]:
    return {"username": address, "realm": MAILBOX_REALM}


def account_key(request: HttpRequest | None, credentials: dict | None) -> str:
    """The failure-counter key of the account these credentials name (AXES_USERNAME_CALLABLE).

    "admin:<username>" for an existing admin named by username or e-mail address (as
    accounts.backends.AdminBackend resolves it), "mailbox:<address>" for a mailbox login;
    otherwise the login as typed, lower-cased, so unknown names still count."""
    from domains.addresses import normalize_address

    from .models import Admin

    credentials = credentials or {}
    login = str(credentials.get("username") or "").strip()[:320]
    if credentials.get("realm") == MAILBOX_REALM:
        try:
            return f"mailbox:{normalize_address(login)}"
        except ValidationError:
            return f"mailbox:{login.lower()}"
    if not login:
        return ""
    admin = (Admin.objects.filter(username__iexact=login).only("username").first()
             or Admin.objects.filter(email__iexact=login).only("username").first())
    return f"admin:{admin.username.lower()}" if admin else f"admin:{login.lower()}"


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def client_ip(request: HttpRequest) -> str:
    """The client's IP address (AXES_CLIENT_IP_CALLABLE).

    The peer (REMOTE_ADDR) unless it is a trusted proxy (MAILADMIN_TRUSTED_PROXIES: addresses
    or networks); then X-Forwarded-For is read from the right, skipping trusted proxies, and the
    first other address is the client (each proxy appends the address it received from, as
    nginx's $proxy_add_x_forwarded_for does). Entries left of it were written by the client and
    are never believed. django-ipware, which axes can use instead, matches its trusted-proxy list
    against the hops inside X-Forwarded-For and never against the peer, so a client that
    reaches gunicorn directly could choose its own address there."""
    peer = _parse(request.META.get("REMOTE_ADDR", "")) or ipaddress.ip_address("0.0.0.0")
    trusted = _networks(tuple(settings.MAILADMIN_TRUSTED_PROXIES))

    def is_trusted(address) -> bool:
        return any(address in network for network in trusted if network.version == address.version)

    if not is_trusted(peer):
        return str(peer)
    client = peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse(hop)
        if address is None:
            break  # garbage: stop at the last address a trusted proxy vouched for
        client = address
        if not is_trusted(address):
            break
    return str(client)


class Throttled(Exception):
    """Too many failures for this account or from this client."""


def check_password_attempt(request: HttpRequest, credentials: dict, ok) -> bool:
    """Throttle a password check that is not a login (re-typing the current password).

    `ok` is a callable returning whether the password matches. Raises Throttled when the
    account or the client is locked out (before checking, and after the failure that locks
    it); records a failure with django-axes otherwise, exactly as a failed login."""
    if not AxesProxyHandler.is_allowed(request, credentials):
        raise Throttled
    if ok():
        return True
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if not AxesProxyHandler.is_allowed(request, credentials):
        raise Throttled
    return False
