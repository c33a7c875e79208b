"""Mail users: login with the mailbox password (the hash Dovecot checks), their session,
and the password schemes a mailbox may hold after a migration from another panel.

Mail users are not Django users. A logged-in mail user's session holds the mailbox id and
a fingerprint of its password hash, so a password change elsewhere ends the session.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect

from audit.services import audit_record
from domains.addresses import normalize_address
from domains.models import Mailbox
from domains import password_schemes
from domains.password_schemes import UnverifiableHash
from domains.passwords import ARGON2ID_PREFIX, hash_password, verify_argon2id

from .throttle import account_key, mailbox_credentials

logger = logging.getLogger("mailadmin.mailusers")

SESSION_MAILBOX = "mailbox_id"
SESSION_FINGERPRINT = "mailbox_pw"

@dataclass(frozen=True)
class MailUserActor:
    """The audit actor for self-service changes: the mailbox itself."""

    audit_label: str


def verify_password(stored: str, password: str, *, user: str) -> bool:
    """Whether `password` matches the stored hash, for every scheme Dovecot verifies
    (domains/password_schemes.py). Raises UnverifiableHash when no password can match."""
    return password_schemes.verify(stored, password, user=user)


def is_legacy(stored: str) -> bool:
    return not stored.startswith(ARGON2ID_PREFIX)


@transaction.atomic
def upgrade_hash(*, mailbox: Mailbox, password: str) -> None:
    """Re-hash a legacy-scheme password as {ARGON2ID} (the password itself is unchanged)."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    locked.password = hash_password(password)
    locked.save(update_fields=["password", "modified"])
    mailbox.password = locked.password
    audit_record(actor=MailUserActor(mailbox.address), action="mailbox.rehash", obj=mailbox,
                 domain_name=mailbox.domain.name)


def fingerprint(mailbox: Mailbox) -> str:
    """HMAC of the password hash and the session version: a password change, or the mailbox or
    its domain being deactivated (accounts/sessions.py), ends the session."""
    from .sessions import mailbox_session_version

    data = f"{mailbox.password}\x00{mailbox_session_version(mailbox)}"
    return hmac.new(settings.SECRET_KEY.encode(), data.encode(), hashlib.sha256).hexdigest()


class LoginThrottled(Exception):
    pass


# A hash to check against when the address does not exist, so that the answer takes as long.
_DUMMY = None


def authenticate_mailbox(request, address: str, password: str) -> Mailbox | None:
    """The mailbox for these credentials, or None. Raises LoginThrottled after too many failures
    for this address or from this IP (django-axes, as for admins)."""
    global _DUMMY
    try:
        address = normalize_address(address)
    except ValidationError:
        address = (address or "").strip().lower()[:320]
    credentials = mailbox_credentials(address)
    if not AxesProxyHandler.is_allowed(request, credentials):
        raise LoginThrottled
    mailbox = (Mailbox.objects.select_related("domain").filter(address=address).first() if address else None)
    if mailbox is None:
        _DUMMY = _DUMMY or hash_password("dummy password for timing")
        verify_argon2id(_DUMMY, password)
        ok = False
    else:
        try:
            ok = verify_password(mailbox.password, password, user=mailbox.address)
        except UnverifiableHash as exc:
            # No password can open this mailbox here (a scheme or format the panel cannot read):
            # not a guess, so it does not count toward the lockout; the admin must reset it.
            logger.warning("mailbox %s: stored password hash cannot be verified (%s)", mailbox.pk, exc)
            return None
        ok = ok and mailbox.active and mailbox.domain.active
    if not ok:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if not AxesProxyHandler.is_allowed(request, credentials):
            raise LoginThrottled
        return None
    if is_legacy(mailbox.password):
        upgrade_hash(mailbox=mailbox, password=password)
    AxesProxyHandler.reset_attempts(username=account_key(request, credentials))
    return mailbox


def log_in(request, mailbox: Mailbox) -> None:
    request.session.cycle_key()
    request.session[SESSION_MAILBOX] = mailbox.pk
    request.session[SESSION_FINGERPRINT] = fingerprint(mailbox)


def log_out(request) -> None:
    request.session.flush()


def current_mailbox(request) -> Mailbox | None:
    pk = request.session.get(SESSION_MAILBOX)
    if not pk:
        return None
    mailbox = Mailbox.objects.select_related("domain", "usage").filter(pk=pk).first()
    if (mailbox is None or not mailbox.active or not mailbox.domain.active
            or not hmac.compare_digest(request.session.get(SESSION_FINGERPRINT, ""), fingerprint(mailbox))):
        return None
    return mailbox


def mailuser_required(view):
    """For mail-user pages: the logged-in, still valid mailbox as request.mailbox, else the login page."""
    from django.contrib.auth.decorators import login_not_required

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        mailbox = current_mailbox(request)
        if mailbox is None:
            if request.session.get(SESSION_MAILBOX):
                log_out(request)
            return redirect(f"/me/login/?next={request.path}")
        request.mailbox = mailbox
        return view(request, *args, **kwargs)

    return wrapper
