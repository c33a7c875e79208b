import json
import logging
import sys

from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, HttpResponseServerError
from django.templatetags.static import static
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the panel can query its database; 503 (through server_error) when it cannot."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse(json.dumps({"status": "ok", "database": "ok"}), content_type="application/json")


logger = logging.getLogger("mailadmin.ops")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 with Retry-After when the database is unreachable, else a plain 500.

    Django calls it inside the `except` that caught the error (from a view or a middleware
    such as the session's), so the exception is at hand. Persistent connections are health-
    checked (CONN_HEALTH_CHECKS), so the first request after PostgreSQL returns reconnects."""
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        logger.error("database unavailable: %s", error.__class__.__name__)
        if request.path == "/healthz":
            body, content_type = json.dumps({"status": "unavailable", "database": "unreachable"}), "application/json"
        elif request.path.startswith("/api/"):
            # Scripts get the API's own error shape (api/errors.py), not a page.
            body, content_type = json.dumps({"errors": [{
                "code": "database_unavailable", "field": None,
                "message": _("The panel cannot reach its database. Try again in a moment.")}]}), "application/json"
        else:
            body, content_type = render_to_string("503.html"), "text/html; charset=utf-8"
        response = HttpResponse(body, status=503, content_type=content_type)
        response["Retry-After"] = "10"
        return response
    return HttpResponseServerError(render_to_string("500.html"))


@require_GET
@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages without a <link rel="icon"> (error pages,
    plain-text answers): the panel's icon, permanently moved to its static file."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
