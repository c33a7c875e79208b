"""Security headers on every response."""
from __future__ import annotations

import codecs

from django.conf import settings


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
