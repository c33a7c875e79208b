"""Creating and revoking API tokens; audited like every other change."""
from __future__ import annotations

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Admin
from audit.services import audit_record

from .models import ApiToken

TOKEN_PREFIX = "mla_"
# Lifetimes an admin may choose, in days: every token expires.
EXPIRY_DAYS = (7, 30, 90, 365)
MAX_TOKENS_PER_ADMIN = 50


def token_digest(secret: str) -> str:
    """The stored form of a token: hex SHA-256 of the whole token string."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(*, admin: Admin, name: str, expires_in_days: int, acting_user) -> tuple[ApiToken, str]:
    """Create a token for `admin`; returns (token row, secret). The secret is never stored or shown again.

    Raises ValidationError (codes token_name_empty, token_name_taken, token_expiry_invalid,
    token_limit_reached)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ValidationError(_("Give the token a name."), code="token_name_empty")})
    if expires_in_days not in EXPIRY_DAYS:
        raise ValidationError({"expires_in_days": ValidationError(
            _("Choose one of the offered lifetimes."), code="token_expiry_invalid")})
    admin = Admin.objects.select_for_update().get(pk=admin.pk)  # serializes the per-admin checks
    if admin.api_tokens.filter(name=name).exists():
        raise ValidationError({"name": ValidationError(_("You already have a token with this name."),
                                                       code="token_name_taken")})
    if admin.api_tokens.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).count() >= MAX_TOKENS_PER_ADMIN:
        raise ValidationError(_("At most %(max)d active tokens per admin: revoke one first.")
                              % {"max": MAX_TOKENS_PER_ADMIN}, code="token_limit_reached")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        admin=admin, name=name, prefix=secret[:len(TOKEN_PREFIX) + 6], key_hash=token_digest(secret),
        expires_at=timezone.now() + datetime.timedelta(days=expires_in_days))
    audit_record(actor=acting_user, action="apitoken.create", obj=token,
                 after={"name": name, "admin": admin.get_username(), "expires_at": token.expires_at.isoformat()})
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, acting_user) -> ApiToken:
    """Revoke a token now; it stops authenticating at once. Revoking twice changes nothing."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=acting_user, action="apitoken.revoke", obj=token,
                     before={"revoked_at": None}, after={"revoked_at": token.revoked_at.isoformat()})
    return token
