"""Dashboard, domains and mailboxes. Objects come through the scoped access helpers in
selectors.py (404 outside the admin's domains); writes go through services.py."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .alias_views import _back, _done, _posted, _toggled
from .forms import DomainCreateForm, DomainForm, MailboxCreateForm, MailboxPasswordForm, MailboxUpdateForm
from .params import page_param
from .passwords import generate_password

PAGE_SIZE = 25  # rows rendered per page cost ~0.6 ms each; 25 keeps lists near 25 ms at 100k mailboxes
ACTIVE_FILTERS = {"yes": True, "no": False}


def _require_superadmin(request: HttpRequest) -> None:
    if not request.user.is_superadmin:
        raise PermissionDenied


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "domains/dashboard.html", {
        "totals": selectors.dashboard_totals(request.user),
        # Live, not from the cached totals: the card must go as soon as the first domain exists.
        "has_domains": selectors.domains_for(request.user).exists(),
    })


# --- domains -------------------------------------------------------------------------

@require_GET
def domain_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    sort = request.GET.get("sort", "name")
    sort = sort if sort in selectors.DOMAIN_SORTS else "name"
    from dnscheck.selectors import with_dns_status  # the latest DNS verdict, in the same query

    domains = with_dns_status(selectors.domain_list(request.user, query=query, sort=sort))
    page = Paginator(domains, PAGE_SIZE).get_page(page_param(request))
    template = "domains/domain_list.html"
    if request.htmx and request.htmx.target == "domain-table":
        template += "#domain-table"
    return render(request, template, {"page": page, "query": query, "sort": sort})


@require_http_methods(["GET", "POST"])
def domain_create(request: HttpRequest) -> HttpResponse:
    _require_superadmin(request)
    form = DomainCreateForm(_posted(request), initial={"role_target": request.user.email})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        domain = _attempt(form, lambda: services.domain_create_with_role_aliases(
            role_addresses=data.pop("role_addresses"), role_target=data.pop("role_target"),
            acting_user=request.user, **data))
        if domain is not None:
            messages.success(request, _("Domain %(domain)s created.") % {"domain": domain.display_name})
            return _done(request, reverse("domains:domain-detail", args=[domain.pk]))
    template = "domains/domain_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "creating": True})


def _add_errors(form, exc: ValidationError) -> None:
    """Attach a service's errors to the form: to its fields when it has them, else to the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _attempt(form, call):
    """Run a service call; on a ValidationError, show it on the form and return None."""
    try:
        return call()
    except ValidationError as exc:
        _add_errors(form, exc)
        return None


@require_GET
def domain_detail(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, pk)
    summary = selectors.domain_list(request.user).get(pk=domain.pk)
    return render(request, "domains/domain_detail.html", {
        "domain": domain, "summary": summary, "deletion": services.domain_deletion_summary(domain),
        "alias_domains": domain.alias_domains.all(),
    })


@require_http_methods(["GET", "POST"])
def domain_update(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, pk)
    limited = not request.user.is_superadmin
    initial = {name: getattr(domain, name) for name in DomainForm.base_fields}
    form = DomainForm(_posted(request), initial=initial, limited=limited)
    if request.method == "POST" and form.is_valid():
        if _attempt(form, lambda: services.domain_update(domain=domain, acting_user=request.user,
                                                         **form.cleaned_data)):
            messages.success(request, _("Domain %(domain)s saved.") % {"domain": domain.display_name})
            return _done(request, reverse("domains:domain-detail", args=[domain.pk]))
    template = "domains/domain_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "domain": domain, "limited": limited})


@require_POST
def domain_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, pk)  # 404 outside the scope first
    _require_superadmin(request)
    active = request.POST.get("active") == "1"
    try:
        domain = services.domain_set_active(domain=domain, active=active, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_back(request, reverse("domains:domain-list")))
    domain = selectors.domain_list(request.user).get(pk=domain.pk)
    return _toggled(request, back=_back(request, reverse("domains:domain-list")), row="domains/domain_list.html#domain-row",
                    context={"domain": domain},
                    message=_("Domain %(domain)s is now %(state)s.") % {
                        "domain": domain.display_name, "state": _("active") if active else _("inactive")})


@require_http_methods(["GET", "POST"])
def domain_delete(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, pk)  # 404 outside the scope first
    _require_superadmin(request)
    if request.method == "POST":
        name = domain.display_name
        services.domain_delete(domain=domain, acting_user=request.user)
        messages.success(request, _("Domain %(domain)s deleted.") % {"domain": name})
        return _done(request, reverse("domains:domain-list"))
    return render(request, "domains/domain_confirm_delete.html",
                  {"domain": domain, "deletion": services.domain_deletion_summary(domain)})


# --- mailboxes -----------------------------------------------------------------------

@require_GET
def mailbox_list(request: HttpRequest, domain_pk: int | None = None) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, domain_pk) if domain_pk is not None else None
    query = request.GET.get("q", "")[:200]
    active_filter = request.GET.get("active", "")
    sort = request.GET.get("sort", "address")
    sort = sort if sort in selectors.MAILBOX_SORTS else "address"
    mailboxes = selectors.mailbox_list(request.user, domain=domain, query=query,
                                       active=ACTIVE_FILTERS.get(active_filter), sort=sort)
    page = Paginator(mailboxes, PAGE_SIZE).get_page(page_param(request))
    template = "domains/mailbox_list.html"
    if request.htmx and request.htmx.target == "mailbox-table":
        template += "#mailbox-table"
    return render(request, template, {"domain": domain, "page": page, "query": query,
                                      "active_filter": active_filter, "sort": sort})


@require_http_methods(["GET", "POST"])
def mailbox_create(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, domain_pk)
    form = MailboxCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = generate_password() if data["generate_password"] else data["password"]
        mailbox = _attempt(form, lambda: services.mailbox_create(
            domain=domain, local_part=data["local_part"], password=password, name=data["name"],
            quota_bytes=data["quota_bytes"], active=data["active"], acting_user=request.user))
        if mailbox is not None:
            if data["generate_password"]:
                # Shown once, in this response only: never stored in clear, never logged.
                return render(request, "domains/mailbox_password_shown.html", {"mailbox": mailbox, "password": password})
            messages.success(request, _("Mailbox %(address)s created.") % {"address": mailbox.display_address})
            return _done(request, reverse("domains:domain-mailbox-list", args=[domain.pk]))
    template = "domains/mailbox_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "domain": domain, "creating": True})


@require_GET
def mailbox_address_check(request: HttpRequest, domain_pk: int) -> HttpResponse:
    """htmx: is the address being typed free? Answers only for the admin's own domains."""
    domain = selectors.get_domain_for_admin(request.user, domain_pk)
    from .addresses import normalize_local_part

    try:
        local_part = normalize_local_part(request.GET.get("local_part", ""))
    except ValidationError as exc:
        return render(request, "domains/mailbox_form.html#address-check", {"ok": False, "message": exc.messages[0]})
    free = selectors.address_is_free(domain, local_part)
    address = f"{local_part}@{domain.display_name}"
    message = (_("%(address)s is free.") if free else _("%(address)s is already a mailbox or an alias.")) % {
        "address": address}
    return render(request, "domains/mailbox_form.html#address-check", {"ok": free, "message": message})


@require_http_methods(["GET", "POST"])
def mailbox_update(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    form = MailboxUpdateForm(_posted(request), initial={"name": mailbox.name, "quota_bytes": mailbox.quota_bytes,
                                                        "active": mailbox.active})
    if request.method == "POST" and form.is_valid():
        if _attempt(form, lambda: services.mailbox_update(mailbox=mailbox, acting_user=request.user,
                                                          **form.cleaned_data)):
            messages.success(request, _("Mailbox %(address)s saved.") % {"address": mailbox.display_address})
            return _done(request, reverse("domains:domain-mailbox-list", args=[mailbox.domain_id]))
    template = "domains/mailbox_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "domain": mailbox.domain, "mailbox": mailbox,
                                      "forwarding": selectors.get_forwarding_for_mailbox(mailbox)})


@require_http_methods(["GET", "POST"])
def mailbox_password(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    form = MailboxPasswordForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        password = generate_password() if form.cleaned_data["generate_password"] else form.cleaned_data["password"]
        services.mailbox_set_password(mailbox=mailbox, password=password, acting_user=request.user)
        if form.cleaned_data["generate_password"]:
            return render(request, "domains/mailbox_password_shown.html", {"mailbox": mailbox, "password": password})
        messages.success(request, _("Password of %(address)s changed.") % {"address": mailbox.display_address})
        return _done(request, reverse("domains:mailbox-update", args=[mailbox.pk]))
    return render(request, "domains/mailbox_password.html", {"form": form, "mailbox": mailbox})


@require_POST
def mailbox_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    active = request.POST.get("active") == "1"
    mailbox = services.mailbox_set_active(mailbox=mailbox, active=active, acting_user=request.user)
    mailbox = selectors.mailbox_list(request.user).get(pk=mailbox.pk)
    return _toggled(request, back=_back(request, reverse("domains:mailbox-list")),
                    row="domains/mailbox_list.html#mailbox-row", context={"mailbox": mailbox},
                    message=_("Mailbox %(address)s is now %(state)s.") % {
                        "address": mailbox.display_address, "state": _("active") if active else _("inactive")})


@require_http_methods(["GET", "POST"])
def mailbox_delete(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    if request.method == "POST":
        address, domain_pk = mailbox.display_address, mailbox.domain_id
        services.mailbox_delete(mailbox=mailbox, acting_user=request.user)
        messages.success(request, _("Mailbox %(address)s deleted. Its mail on disk is left for you to archive "
                                    "or remove.") % {"address": address})
        return _done(request, reverse("domains:domain-mailbox-list", args=[domain_pk]))
    return render(request, "domains/mailbox_confirm_delete.html",
                  {"mailbox": mailbox, "forwarding": selectors.get_forwarding_for_mailbox(mailbox)})
