"""Helpers shared by the panel's view modules (domains, aliases, accounts, audit, quota):
request reading, the answer after a write (htmx or plain), and the list settings defined
once: page sizes and the filter maps of the list pages."""
from __future__ import annotations

from typing import Callable, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_htmx.http import HttpResponseClientRedirect

from .params import page_param, pk_param

T = TypeVar("T")

# The page sizes an admin may pick on every list (remembered on Admin.list_page_size).
# Rows rendered per page cost ~0.6 ms each: 100 keeps a list near 70 ms at 100k mailboxes.
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = PAGE_SIZES[0]

# ?active= on the list pages.
ACTIVE_FILTERS = {"yes": True, "no": False}


def posted(request: HttpRequest):
    """The submitted data on POST (even when empty, so the form validates), None on GET."""
    return request.POST if request.method == "POST" else None


def done(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful write: htmx follows with a full page load, plain forms redirect."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def back(request: HttpRequest, default: str) -> str:
    """The list the admin came from (kept with its filters), if it is one of ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    # A path of this site only: "G…" would be read by redirect() as a view name.
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                                require_https=request.is_secure()):
        return url
    return default


def toggled(request: HttpRequest, *, back: str, row: str, context: dict, message: str) -> HttpResponse:
    """After an inline activate/deactivate: htmx gets the new table row, plain forms go back."""
    if request.htmx:
        return render(request, row, context)
    messages.success(request, message)
    return redirect(back)


def int_or_none(value) -> int | None:
    """A primary key from request data, or None when it cannot be one (domains/params.py)."""
    return pk_param(value)


def require_superadmin(request: HttpRequest) -> None:
    if not request.user.is_superadmin:
        raise PermissionDenied


def add_errors(form, exc: ValidationError) -> None:
    """Attach a service's errors to the form: to its fields when it has them, else to the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def attempt(form, call: Callable[[], T]) -> T | None:
    """Run a service call; on a ValidationError, show it on the form and return None."""
    try:
        return call()
    except ValidationError as exc:
        add_errors(form, exc)
        return None


def page_size_for(request: HttpRequest) -> int:
    """Rows per page: the admin's remembered choice, or the default."""
    size = getattr(request.user, "list_page_size", DEFAULT_PAGE_SIZE)
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def paginate(request: HttpRequest, rows) -> Page:
    """The requested page of `rows` at the admin's page size (junk and out-of-range numbers clamp)."""
    return Paginator(rows, page_size_for(request)).get_page(page_param(request))


def fragment(request: HttpRequest, template: str, partial: str) -> str:
    """`template#partial` when htmx asks for that partial's element, else the full page."""
    if request.htmx and request.htmx.target == partial:
        return f"{template}#{partial}"
    return template


def deactivation_unconfirmed(request: HttpRequest, *, name: str, warning: str, url: str,
                             back_url: str) -> HttpResponse | None:
    """Deactivating something that stops mail needs a confirmed request; None when this one
    may proceed. Otherwise the confirmation page, saying what stops (`warning`); under htmx,
    whose target is a table row, a redirect to that page rather than a page inside the row."""
    if request.method == "POST" and (request.POST.get("active") == "1" or request.POST.get("confirmed") == "1"):
        return None
    if request.htmx:
        return HttpResponseClientRedirect(f"{url}?{urlencode({'next': back_url})}")
    return render(request, "domains/confirm_deactivate.html",
                  {"name": name, "warning": warning, "url": url, "back_url": back_url})
