"""Security headers on every response."""
from __future__ import annotations

import codecs

from django.conf import settings
from django.utils.cache import add_never_cache_headers


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no inline script or style), Permissions-Policy, COOP."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = settings.CONTENT_SECURITY_POLICY
        self.permissions = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.csp)
        response.setdefault("Permissions-Policy", self.permissions)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class RejectNulBytesMiddleware:
    """400 for any query string or form value holding a NUL byte.

    No legitimate input contains one, and PostgreSQL refuses them in text, so letting one
    reach a query would turn a typo or a probe into a 500. One check here spares every view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            return self.bad_request()
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            for values in request.POST.lists():
                if any("\x00" in value for value in values[1]):
                    return self.bad_request()
        return self.get_response(request)

    @staticmethod
    def bad_request():
        from django.http import HttpResponseBadRequest

        return HttpResponseBadRequest("Invalid characters in the request.", content_type="text/plain")


class NoStoreWhenLoggedInMiddleware:
    """`Cache-Control: no-store` (Django's never-cache headers) on every response to a request
    made with a login, an admin's (even half-way through two-factor) or a mail user's: pages,
    htmx partials, generated passwords, CSV downloads. A shared or browser cache must not keep
    a copy that the next person at the machine, or a proxy, could replay.

    Placed right after SessionMiddleware, so it sees every response, redirects included."""

    # Session keys that mark a login: django.contrib.auth's and the mail users' (accounts/mailusers.py).
    LOGIN_KEYS = ("_auth_user_id", "mailbox_id")

    def __init__(self, get_response):
        self.get_response = get_response

    def _logged_in(self, request) -> bool:
        session = getattr(request, "session", None)
        return session is not None and any(key in session for key in self.LOGIN_KEYS)

    def __call__(self, request):
        logged_in = self._logged_in(request)
        response = self.get_response(request)
        if logged_in or self._logged_in(request):
            add_never_cache_headers(response)
        return response


class RequireUtf8BodyMiddleware:
    """400 for a request body whose Content-Type names a charset other than UTF-8.

    Our pages are UTF-8 and browsers post in the page's charset. Django refuses other charsets
    for urlencoded forms itself, but its multipart parser decodes with whatever the client
    names: `charset=base64` raised LookupError and `charset=ascii` a decode error, both 500s.
    Sources: RFC 7578 §5.1 (multipart/form-data is UTF-8 unless _charset_ says otherwise);
    WHATWG URL, application/x-www-form-urlencoded is always UTF-8."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = request.content_params.get("charset") if request.content_params else None
        if charset is not None:
            try:
                utf8 = codecs.lookup(charset.strip().strip("'\"")).name == "utf-8"
            except LookupError:
                utf8 = False
            if not utf8:
                from django.http import HttpResponseBadRequest

                return HttpResponseBadRequest("Request bodies must be UTF-8.", content_type="text/plain")
        return self.get_response(request)
