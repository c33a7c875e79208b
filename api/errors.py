"""Every API error as JSON: {"errors": [{"code", "field", "message"}]}.

`code` is stable (the service's ValidationError code, or one of the codes below) and is what
scripts should test; `field` names the request field concerned, or is null; `message` is for
people, in the request's language.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as RequestValidationError


class ErrorItem(Schema):
    code: str
    field: str | None = None
    message: str


class ErrorOut(Schema):
    errors: list[ErrorItem]


class ApiError(Exception):
    """An error an endpoint raises itself: status, stable code, field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def superadmin_only(field: str | None = None) -> ApiError:
    return ApiError(403, "superadmin_only", _("Only a superadmin may do this."), field)


def _items_from_validation_error(exc: ValidationError) -> list[dict[str, Any]]:
    items = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                for message in error.messages:
                    items.append({"code": error.code or "invalid",
                                  "field": None if field == NON_FIELD_ERRORS else field, "message": message})
    else:
        for error in exc.error_list:
            for message in error.messages:
                items.append({"code": error.code or "invalid", "field": None, "message": message})
    return items


def error_response(api: NinjaAPI, request: HttpRequest, status: int, items: list[dict[str, Any]],
                   headers: dict[str, str] | None = None) -> HttpResponse:
    response = api.create_response(request, {"errors": items}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def service_error(request, exc: ValidationError):
        return error_response(api, request, 400, _items_from_validation_error(exc))

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return error_response(api, request, exc.status, [{"code": exc.code, "field": exc.field,
                                                          "message": exc.message}])

    @api.exception_handler(RequestValidationError)
    def request_error(request, exc: RequestValidationError):
        items = []
        for error in exc.errors:
            location = [str(part) for part in error.get("loc", ())]
            # ("body", "payload", "quota_bytes") -> "quota_bytes"; ("query", "page") -> "page"
            field = ".".join(location[2:] if location[:1] == ["body"] and len(location) > 2 else location[1:]) or None
            items.append({"code": f"invalid_{error.get('type', 'value')}", "field": field,
                          "message": str(error.get("msg", _("Invalid value.")))})
        return error_response(api, request, 422, items)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request, exc):
        return error_response(api, request, 401, [{"code": "unauthorized", "field": None, "message": _(
            "Send a valid API token: Authorization: Bearer <token>.")}], headers={"WWW-Authenticate": "Bearer"})

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        # django-ninja adds Retry-After (seconds) to this response.
        return error_response(api, request, 429, [{"code": "throttled", "field": None, "message": _(
            "Too many requests with this token; wait and retry.")}])

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(api, request, 404, [{"code": "not_found", "field": None,
                                                   "message": _("Not found.")}])

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return error_response(api, request, 403, [{"code": "forbidden", "field": None,
                                                   "message": _("You may not do this.")}])

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, ApiError):  # our parser's refusal, wrapped by django-ninja
            return api_error(request, exc.__cause__)
        code = {400: "bad_request", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return error_response(api, request, exc.status_code, [{"code": code, "field": None,
                                                               "message": str(exc)}])


# Documented on every operation, so clients (and the schema checks) know their shape.
COMMON_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def responses(status: int, schema) -> dict:
    return {status: schema, **COMMON_ERRORS}
