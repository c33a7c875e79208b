"""Pages for aliases, a mailbox's forwarding and alias domains.

Every object is fetched through a scoped access helper in selectors.py (404 outside the
admin's domains); every write goes through services.py.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from . import selectors, services
from .addresses import address_display, normalize_local_part
from .alias_forms import AliasCreateForm, AliasDomainApproveForm, AliasDomainForm, AliasUpdateForm, ForwardingForm
from .name_claims import lookalike_findings
from .params import page_param, pk_param

PAGE_SIZE = 50
ACTIVE_FILTERS = {"yes": True, "no": False}



def _posted(request: HttpRequest):
    """The submitted data on POST (even when empty, so the form validates), None on GET."""
    return request.POST if request.method == "POST" else None

def _done(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful write: htmx follows with a full page load, plain forms redirect."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _back(request: HttpRequest, default: str) -> str:
    """The list the admin came from (kept with its filters), if it is one of ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return default


def _toggled(request: HttpRequest, *, back: str, row: str, context: dict, message: str) -> HttpResponse:
    """After an inline activate/deactivate: htmx gets the new table row, plain forms go back."""
    if request.htmx:
        return render(request, row, context)
    messages.success(request, message)
    return redirect(back)


def _int(value) -> int | None:
    return pk_param(value)


# --- aliases -------------------------------------------------------------------------

@require_http_methods(["GET"])
def alias_list(request: HttpRequest, domain_pk: int | None = None) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, domain_pk) if domain_pk is not None else None
    query = request.GET.get("q", "")[:200]
    active_filter = request.GET.get("active", "")
    sort = request.GET.get("sort", "address")
    if sort not in selectors.ALIAS_SORTS:
        sort = "address"
    aliases = selectors.alias_list(request.user, domain=domain, query=query,
                                   active=ACTIVE_FILTERS.get(active_filter), sort=sort)
    page = Paginator(aliases, PAGE_SIZE).get_page(page_param(request))
    template = "domains/alias_list.html"
    if request.htmx and request.htmx.target == "alias-table":
        template += "#alias-table"
    return render(request, template, {
        "domain": domain, "page": page, "query": query, "active_filter": active_filter, "sort": sort,
    })


@require_http_methods(["GET", "POST"])
def alias_create(request: HttpRequest) -> HttpResponse:
    initial = {"domain": request.GET.get("domain")}
    form = AliasCreateForm(_posted(request), user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            alias = services.alias_create(domain=data["domain"], local_part=data["local_part"],
                                          destinations=data["destinations"], active=data["active"],
                                          acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Alias %(address)s created.") % {"address": alias.display_address})
            return _done(request, reverse("domains:domain-alias-list", args=[alias.domain_id]))
    # When the domain is known (from the list it came from, or the posted form), say how
    # close it is to its alias limit before the admin hits it.
    domain = (form.cleaned_data.get("domain") if form.is_bound and hasattr(form, "cleaned_data")
              else selectors.domains_holding_addresses(request.user).filter(pk=_int(initial["domain"])).first())
    usage = selectors.alias_usage(domain) if domain else None
    template = "domains/alias_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "domain": domain, "usage": usage})


@require_http_methods(["GET"])
def alias_address_check(request: HttpRequest) -> HttpResponse:
    """htmx: is the address being typed free in this domain? Silent about other domains."""
    domain = selectors.domains_holding_addresses(request.user).filter(pk=_int(request.GET.get("domain"))).first()
    local_part = request.GET.get("local_part", "")
    catchall = bool(request.GET.get("catchall"))
    state, message = "", ""
    if domain and (local_part.strip() or catchall):
        try:
            address = f"{'' if catchall else normalize_local_part(local_part)}@{domain.name}"
        except ValidationError as exc:
            state, message = "error", exc.messages[0]
        else:
            owner = selectors.address_owner(address)
            shown = address_display(address)
            if owner == "mailbox":
                state, message = "error", _("%(address)s is a mailbox: set its forwarding instead of an alias.") % {"address": shown}
            elif owner == "alias":
                state, message = "error", (_("%(domain)s already has a catch-all.") % {"domain": domain.display_name}
                                           if catchall else _("%(address)s is already an alias.") % {"address": shown})
            else:
                state, message = "ok", _("%(address)s is free.") % {"address": shown}
    return render(request, "domains/alias_form.html#address-check", {"check_state": state, "check_message": message})


@require_http_methods(["GET", "POST"])
def alias_update(request: HttpRequest, pk: int) -> HttpResponse:
    alias = selectors.get_plain_alias_for_admin(request.user, pk)
    initial = {"destinations": "\n".join(alias.display_destinations), "active": alias.active}
    form = AliasUpdateForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.alias_update(alias=alias, destinations=form.cleaned_data["destinations"],
                                  active=form.cleaned_data["active"], acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Alias %(address)s saved.") % {"address": alias.display_address})
            return _done(request, _back(request, reverse("domains:domain-alias-list", args=[alias.domain_id])))
    template = "domains/alias_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "alias": alias, "next_url": _back(request, "")})


@require_POST
def alias_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    alias = selectors.get_plain_alias_for_admin(request.user, pk)
    alias = services.alias_set_active(alias=alias, active=request.POST.get("active") == "1",
                                      acting_user=request.user)
    message = (_("Alias %(address)s activated.") if alias.active
               else _("Alias %(address)s deactivated.")) % {"address": alias.display_address}
    return _toggled(request, back=_back(request, reverse("domains:domain-alias-list", args=[alias.domain_id])),
                    row="domains/alias_list.html#alias-row", context={"alias": alias}, message=message)


@require_http_methods(["GET", "POST"])
def alias_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alias = selectors.get_plain_alias_for_admin(request.user, pk)
    if request.method == "POST":
        services.alias_delete(alias=alias, acting_user=request.user)
        messages.success(request, _("Alias %(address)s deleted.") % {"address": alias.display_address})
        return _done(request, reverse("domains:domain-alias-list", args=[alias.domain_id]))
    return render(request, "domains/alias_confirm_delete.html", {"alias": alias})


# --- a mailbox's forwarding ----------------------------------------------------------

@require_http_methods(["GET", "POST"])
def mailbox_forwarding(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    forwarding = selectors.get_forwarding_for_mailbox(mailbox)
    if forwarding:
        initial = {"destinations": "\n".join(address_display(d) for d in forwarding.destinations
                                              if d != mailbox.address),
                   "keep_copy": mailbox.address in forwarding.destinations}
    else:
        initial = {"destinations": "", "keep_copy": True}
    form = ForwardingForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            alias = services.mailbox_set_forwarding(
                mailbox=mailbox, destinations=form.cleaned_data["destinations"],
                keep_copy=form.cleaned_data["keep_copy"], acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if alias is None:
                messages.success(request, _("%(address)s no longer forwards its mail.")
                                 % {"address": mailbox.display_address})
            else:
                messages.success(request, _("Forwarding of %(address)s saved.")
                                 % {"address": mailbox.display_address})
            return _done(request, reverse("domains:mailbox-forwarding", args=[mailbox.pk]))
    template = "domains/mailbox_forwarding.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "mailbox": mailbox, "forwarding": forwarding})


# --- alias domains -------------------------------------------------------------------

@require_http_methods(["GET"])
def alias_domain_list(request: HttpRequest) -> HttpResponse:
    domain_pk = pk_param(request.GET.get("domain"))
    domain = selectors.get_domain_for_admin(request.user, domain_pk) if domain_pk else None
    query = request.GET.get("q", "")[:200]
    pending = request.GET.get("pending") == "1"
    alias_domains = selectors.alias_domain_list(request.user, domain=domain, query=query, pending=pending)
    page = Paginator(alias_domains, PAGE_SIZE).get_page(page_param(request))
    template = "domains/aliasdomain_list.html"
    if request.htmx and request.htmx.target == "aliasdomain-table":
        template += "#aliasdomain-table"
    awaiting = selectors.alias_domain_list(request.user, domain=domain, pending=True).count()
    return render(request, template, {"domain": domain, "page": page, "query": query, "pending": pending,
                                      "awaiting": awaiting})


@require_http_methods(["GET", "POST"])
def alias_domain_create(request: HttpRequest) -> HttpResponse:
    form = AliasDomainForm(_posted(request), user=request.user,
                           initial={"target": request.GET.get("domain")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            alias_domain = services.alias_domain_create(
                name=data["name"], target=data["target"], active=data.get("active", False),
                allow_lookalike=data.get("allow_lookalike", False), acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if alias_domain.approved:
                messages.success(request, _("Alias domain %(name)s created.") % {"name": alias_domain.display_name})
            else:
                messages.success(request, _("Alias domain %(name)s requested: a superadmin must approve it "
                                            "before this server accepts mail for it.") % {"name": alias_domain.display_name})
            return _done(request, reverse("domains:aliasdomain-list"))
    template = "domains/aliasdomain_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form})


@require_http_methods(["GET", "POST"])
def alias_domain_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """A superadmin reviews a requested alias domain (Unicode and punycode side by side) and approves it."""
    alias_domain = selectors.get_alias_domain_for_admin(request.user, pk)
    if not request.user.is_superadmin:
        raise PermissionDenied
    form = AliasDomainApproveForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.alias_domain_approve(alias_domain=alias_domain, acting_user=request.user,
                                          allow_lookalike=form.cleaned_data["allow_lookalike"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Alias domain %(name)s approved.") % {"name": alias_domain.display_name})
            return _done(request, reverse("domains:aliasdomain-list"))
    return render(request, "domains/aliasdomain_confirm_approve.html", {
        "alias_domain": alias_domain, "form": form, "findings": lookalike_findings(alias_domain.name)})


@require_POST
def alias_domain_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    alias_domain = selectors.get_alias_domain_for_admin(request.user, pk)
    try:
        alias_domain = services.alias_domain_set_active(alias_domain=alias_domain,
                                                        active=request.POST.get("active") == "1",
                                                        acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _done(request, _back(request, reverse("domains:aliasdomain-list")))
    message = (_("Alias domain %(name)s activated.") if alias_domain.active
               else _("Alias domain %(name)s deactivated.")) % {"name": alias_domain.display_name}
    return _toggled(request, back=_back(request, reverse("domains:aliasdomain-list")),
                    row="domains/aliasdomain_list.html#aliasdomain-row", context={"alias_domain": alias_domain},
                    message=message)


@require_http_methods(["GET", "POST"])
def alias_domain_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alias_domain = selectors.get_alias_domain_for_admin(request.user, pk)
    if request.method == "POST":
        services.alias_domain_delete(alias_domain=alias_domain, acting_user=request.user)
        messages.success(request, _("Alias domain %(name)s deleted.") % {"name": alias_domain.display_name})
        return _done(request, reverse("domains:aliasdomain-list"))
    return render(request, "domains/aliasdomain_confirm_delete.html", {"alias_domain": alias_domain})
