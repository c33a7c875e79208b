"""Bearer-token authentication and per-token throttling for the API.

Sessions never authenticate the API: a browser's cookie carries no weight here, so the API
has no CSRF surface. The throttle keeps its counters in a cache shared by every worker
process (the database cache `api_throttle`), not in per-process memory.
"""
from __future__ import annotations

import threading

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle, SimpleRateThrottle

from .models import ApiToken
from .selectors import authenticate_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer mla_…`; request.auth is the ApiToken, its admin the actor."""

    openapi_description = "An API token created on the panel's API tokens page."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return authenticate_token(token)


THROTTLE_LOCK_SPACE = 0x415049  # 'API': advisory lock space, keyed by token id


class _TokenWindow(SimpleRateThrottle):
    """django-ninja's sliding-window throttle, keyed by token, counting in the shared cache."""

    scope = "token"

    def __init__(self, rate: str) -> None:
        self.cache = caches["api_throttle"]
        super().__init__(rate=rate)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return None  # unauthenticated requests never reach an endpoint
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class TokenRateThrottle(BaseThrottle):
    """At most settings.MAILADMIN_API_RATE requests per token ("1200/min").

    django-ninja keeps one throttle object per API and its SimpleRateThrottle stores the
    request's state on itself; gunicorn's gthread workers serve requests in parallel
    threads, so each request gets its own window object (thread-local)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        self._local.window = window = _TokenWindow(settings.MAILADMIN_API_RATE)
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return window.allow_request(request)
        # The window is read, checked and written back: without a lock, parallel requests
        # with one token all read the same history and all pass. The lock (one per token)
        # is held until the new history is committed.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [THROTTLE_LOCK_SPACE, token.pk % 2**31])
            return window.allow_request(request)

    def wait(self) -> float | None:
        window = getattr(self._local, "window", None)
        return window.wait() if window is not None else None
