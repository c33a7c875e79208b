"""The REST API (django-ninja): /api/v1/, its OpenAPI 3.1 schema at /api/v1/openapi.json and
interactive docs at /api/v1/docs (for logged-in admins; assets come from django-ninja's
static files, never a CDN, and its page has no inline script, so our CSP holds)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.parser import Parser

from .auth import TokenAuth, TokenRateThrottle
from .endpoints import admins, alias_domains, aliases, domains, mailaccess, mailboxes, reads
from .errors import ApiError, install_error_handlers


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class StrictParser(Parser):
    """JSON bodies as usual, but a NUL character anywhere is refused (PostgreSQL cannot store
    one in text, so it would otherwise surface as a server error)."""

    def parse_body(self, request):
        try:
            data = super().parse_body(request)
        except ValueError:
            raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None
        if _has_nul(data):
            raise ApiError(400, "invalid_characters", _("Invalid characters in the request."))
        return data


api = NinjaAPI(
    title="mailadmin API",
    version="1",
    description="Domains, mailboxes, aliases, alias domains, quota usage, admins and the audit log, "
                "scoped exactly like the panel. Authenticate with an API token "
                "(`Authorization: Bearer mla_…`) from the panel's API tokens page. Sizes are in bytes; "
                "0 means unlimited. Errors: `{\"errors\": [{\"code\", \"field\", \"message\"}]}`.",
    urls_namespace="api",
    auth=TokenAuth(),
    throttle=[TokenRateThrottle()],
    parser=StrictParser(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=Swagger(settings={"persistAuthorization": False}),
)
install_error_handlers(api)
for module in (domains, mailboxes, mailaccess, aliases, alias_domains, reads, admins):
    api.add_router("", module.router)


def api_urls():
    """The API's URL patterns. The API answers for itself (a token or 401): Django's
    LoginRequiredMiddleware must not redirect it to the login page; only the docs page is
    for logged-in admins."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if pattern.name not in ("openapi-view", "api-root"):
            pattern.callback.login_required = False
    return patterns, app_name, namespace
