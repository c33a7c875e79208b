"""Reading tokens: an admin sees and revokes only their own; a bearer secret resolves to its token."""
from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Admin

from .models import ApiToken
from .services import TOKEN_PREFIX, token_digest

# last_used_at is a convenience for the token list: written at most once a minute per token.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


def tokens_for(user: Admin) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(admin=user).order_by("-created", "-id")


def get_token_for_admin(user: Admin, pk) -> ApiToken:
    try:
        return tokens_for(user).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def authenticate_token(secret: str) -> ApiToken | None:
    """The usable token for this bearer secret, with its admin loaded; None when the secret is
    unknown, revoked, expired, or its admin is deactivated."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    now = timezone.now()
    token = (ApiToken.objects.select_related("admin")
             .filter(key_hash=token_digest(secret), revoked_at__isnull=True, expires_at__gt=now).first())
    if token is None or not token.admin.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
