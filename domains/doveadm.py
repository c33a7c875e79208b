"""Dovecot's doveadm HTTP API, for flushing a user's auth cache entry after a password change.

Off unless MAILADMIN_DOVEADM_API_URL is set (e.g. http://127.0.0.1:8080/doveadm/v1) with
MAILADMIN_DOVEADM_API_KEY (Dovecot's doveadm_api_key). The web server never runs doveadm itself."""
from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings

logger = logging.getLogger("mailadmin.doveadm")


def flush_auth_cache(user: str) -> bool | None:
    """True when Dovecot confirmed the flush, False when it failed, None when not configured."""
    url = settings.MAILADMIN_DOVEADM_API_URL
    if not url:
        return None
    body = json.dumps([["authCacheFlush", {"user": [user]}, "flush"]]).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "Authorization": "X-Dovecot-API " + base64.b64encode(settings.MAILADMIN_DOVEADM_API_KEY.encode()).decode(),
    })
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read() or b"[]")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        logger.warning("doveadm authCacheFlush failed: %s", exc.__class__.__name__)
        return False
    ok = bool(answer) and answer[0][0] == "doveadmResponse"
    if not ok:
        logger.warning("doveadm authCacheFlush refused: %s", answer[:1])
    return ok
