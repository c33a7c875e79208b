"""Superadmins manage admin accounts. Everyone else gets a 404 from the selectors."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from domains.params import page_param

from . import selectors, services
from .admin_forms import AdminCreateForm, AdminPasswordForm, AdminUpdateForm

PAGE_SIZE = 50



def _posted(request: HttpRequest):
    """The submitted data on POST (even when empty, so the form validates), None on GET."""
    return request.POST if request.method == "POST" else None

def _done(request: HttpRequest) -> HttpResponse:
    url = reverse("accounts:admin-list")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _form_template(request: HttpRequest, template: str) -> str:
    return template + "#form" if request.htmx else template


@require_GET
def admin_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:150]
    admins = selectors.admin_list(request.user, query=query)
    page = Paginator(admins, PAGE_SIZE).get_page(page_param(request))
    template = "accounts/admin_list.html"
    if request.htmx and request.htmx.target == "admin-table":
        template += "#admin-table"
    return render(request, template, {"page": page, "query": query})


@require_http_methods(["GET", "POST"])
def admin_create(request: HttpRequest) -> HttpResponse:
    selectors.require_superadmin(request.user)
    form = AdminCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            admin = services.admin_create(username=data["username"], email=data["email"], role=data["role"],
                                          domains=data["domains"], password=data["password"],
                                          acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Administrator %(u)s created.") % {"u": admin.get_username()})
            return _done(request)
    return render(request, _form_template(request, "accounts/admin_form.html"), {"form": form})


@require_http_methods(["GET", "POST"])
def admin_update(request: HttpRequest, pk: int) -> HttpResponse:
    admin = selectors.get_admin_for_superadmin(request.user, pk)
    initial = {"email": admin.email, "role": admin.role, "is_active": admin.is_active,
               "domains": list(admin.domains.all())}
    form = AdminUpdateForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.admin_update(admin=admin, email=data["email"], role=data["role"], is_active=data["is_active"],
                                  domains=data["domains"], acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Administrator %(u)s saved.") % {"u": admin.get_username()})
            return _done(request)
    return render(request, _form_template(request, "accounts/admin_form.html"),
                  {"form": form, "admin_account": admin})


@require_http_methods(["GET", "POST"])
def admin_set_password(request: HttpRequest, pk: int) -> HttpResponse:
    admin = selectors.get_admin_for_superadmin(request.user, pk)
    if admin.pk == request.user.pk:
        # Your own password changes through "change my password", which asks for the current one.
        raise Http404
    form = AdminPasswordForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.admin_set_password(admin=admin, password=form.cleaned_data["password"],
                                        acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Password of %(u)s set.") % {"u": admin.get_username()})
            return _done(request)
    return render(request, _form_template(request, "accounts/admin_password.html"),
                  {"form": form, "admin_account": admin})


@require_http_methods(["GET", "POST"])
def admin_delete(request: HttpRequest, pk: int) -> HttpResponse:
    admin = selectors.get_admin_for_superadmin(request.user, pk)
    error = None
    if request.method == "POST":
        try:
            services.admin_delete(admin=admin, acting_user=request.user)
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, _("Administrator %(u)s deleted.") % {"u": admin.get_username()})
            return _done(request)
    return render(request, "accounts/admin_confirm_delete.html", {"admin_account": admin, "error": error},
                  status=400 if error else 200)
