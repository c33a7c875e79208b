"""Dashboard, domains and mailboxes. Objects come through the scoped access helpers in
selectors.py (404 outside the admin's domains); writes go through services.py."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from audit.selectors import audit_entries_for, entry_changes
from dnscheck.selectors import with_dns_status
from vacation.selectors import vacation_for, vacation_state
from mailaccess.views import mailbox_access

from . import references, selectors, services
from .addresses import normalize_local_part
from .bulk import action_choices
from .effects import deactivation_warning
from .http import (ACTIVE_FILTERS, attempt, back, deactivation_unconfirmed, done, fragment, paginate, posted,
                   require_superadmin, toggled)
from .forms import (DomainCreateForm, DomainForm, MailboxCreateForm, MailboxPasswordForm, MailboxRenameForm,
                    MailboxUpdateForm)
from .models import QuotaUsage
from .passwords import generate_password

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
    domains = with_dns_status(selectors.domain_list(request.user, query=query, sort=sort))
    page = paginate(request, domains)
    template = "domains/domain_list.html"
    if request.htmx and request.htmx.target == "domain-table":
        template += "#domain-table"
    return render(request, template, {"page": page, "query": query, "sort": sort,
                                      "bulk_actions": action_choices("domain")})


@require_http_methods(["GET", "POST"])
def domain_create(request: HttpRequest) -> HttpResponse:
    require_superadmin(request)
    form = DomainCreateForm(posted(request), initial={"role_target": request.user.email})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        domain = attempt(form, lambda: services.domain_create_with_role_aliases(
            role_addresses=data.pop("role_addresses"), role_target=data.pop("role_target"),
            acting_user=request.user, **data))
        if domain is not None:
            messages.success(request, _("Domain %(domain)s created.") % {"domain": domain.display_name})
            return done(request, reverse("domains:domain-detail", args=[domain.pk]))
    template = "domains/domain_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "creating": True})


DOMAIN_PAGE_ROWS = 10  # the first mailboxes and aliases on the domain page; the lists have the rest


@require_GET
def domain_detail(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, pk)
    summary = selectors.domain_list(request.user).get(pk=domain.pk)
    return render(request, "domains/domain_detail.html", {
        "domain": domain, "summary": summary, "deletion": services.domain_deletion_summary(domain),
        "usage": selectors.mailbox_usage(domain, summary.mailbox_count),
        "mailboxes": selectors.mailbox_list(request.user, domain=domain)[:DOMAIN_PAGE_ROWS],
        "aliases": selectors.alias_list(request.user, domain=domain)[:DOMAIN_PAGE_ROWS],
        "alias_domains": domain.alias_domains.all(),
    })


@require_http_methods(["GET", "POST"])
def domain_update(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, pk)
    limited = not request.user.is_superadmin
    initial = {name: getattr(domain, name) for name in DomainForm.base_fields}
    external = selectors.external_forwarding_count(domain) if domain.allow_external_forwarding else 0
    form = DomainForm(posted(request), initial=initial, limited=limited, external_forwardings=external,
                      deactivation_warning=deactivation_warning(domain))
    if request.method == "POST" and form.is_valid():
        if attempt(form, lambda: services.domain_update(domain=domain, acting_user=request.user,
                                                         **form.service_data)):
            messages.success(request, _("Domain %(domain)s saved.") % {"domain": domain.display_name})
            if external and not form.cleaned_data.get("allow_external_forwarding", True) \
                    and not form.cleaned_data.get("drop_external_forwarding"):
                messages.warning(request, ngettext(
                    "%(count)d forwarding to other servers still works; edit it on its mailbox to stop it.",
                    "%(count)d forwardings to other servers still work; edit them on their mailboxes to stop them.",
                    external) % {"count": external})
            return done(request, reverse("domains:domain-detail", args=[domain.pk]))
    template = "domains/domain_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "domain": domain, "limited": limited})


@require_http_methods(["GET", "POST"])
def domain_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    """POST active=1|0 (0 needs confirmed=1); GET is the confirmation page for deactivating."""
    domain = selectors.get_domain_for_admin(request.user, pk)  # 404 outside the scope first
    require_superadmin(request)
    unconfirmed = deactivation_unconfirmed(
        request, name=domain.display_name, warning=deactivation_warning(domain),
        url=reverse("domains:domain-set-active", args=[domain.pk]),
        back_url=back(request, reverse("domains:domain-list")))
    if unconfirmed:
        return unconfirmed
    active = request.POST.get("active") == "1"
    try:
        domain = services.domain_set_active(domain=domain, active=active, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back(request, reverse("domains:domain-list")))
    domain = selectors.domain_list(request.user).get(pk=domain.pk)
    return toggled(request, back=back(request, reverse("domains:domain-list")), row="domains/domain_list.html#domain-row",
                    context={"domain": domain},
                    message=_("Domain %(domain)s is now %(state)s.") % {
                        "domain": domain.display_name, "state": _("active") if active else _("inactive")})


@require_http_methods(["GET", "POST"])
def domain_delete(request: HttpRequest, pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, pk)  # 404 outside the scope first
    require_superadmin(request)
    if request.method == "POST":
        name = domain.display_name
        services.domain_delete(domain=domain, acting_user=request.user)
        messages.success(request, _("Domain %(domain)s deleted.") % {"domain": name})
        return done(request, reverse("domains:domain-list"))
    return render(request, "domains/domain_confirm_delete.html",
                  {"domain": domain, "deletion": services.domain_deletion_summary(domain),
                   "references": references.domain_references(domain)})


# --- mailboxes -----------------------------------------------------------------------

MAX_IDLE_DAYS = 36500   # the "no login for N days" filter; a larger N is ignored


@require_GET
def mailbox_list(request: HttpRequest, domain_pk: int | None = None) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, domain_pk) if domain_pk is not None else None
    query = request.GET.get("q", "")[:200]
    active_filter = request.GET.get("active", "")
    sort = request.GET.get("sort", "address")
    sort = sort if sort in selectors.MAILBOX_SORTS else "address"
    idle_filter = request.GET.get("idle", "").strip()
    idle_days = int(idle_filter) if idle_filter.isdigit() and 0 < int(idle_filter) <= MAX_IDLE_DAYS else None
    idle_filter = str(idle_days) if idle_days else ""
    mailboxes = selectors.mailbox_list(request.user, domain=domain, query=query,
                                       active=ACTIVE_FILTERS.get(active_filter), sort=sort, idle_days=idle_days)
    page = paginate(request, mailboxes)
    usage = None
    if domain is not None:
        # Unfiltered, the page count is the domain's mailbox count: one COUNT(*) over its
        # 20,000 rows rather than two.
        unfiltered = not (query or idle_days or ACTIVE_FILTERS.get(active_filter) is not None)
        usage = selectors.mailbox_usage(domain, page.paginator.count if unfiltered else None)
    template = "domains/mailbox_list.html"
    if request.htmx and request.htmx.target == "mailbox-table":
        template += "#mailbox-table"
    return render(request, template, {"domain": domain, "page": page, "query": query,
                                      "active_filter": active_filter, "sort": sort, "idle_filter": idle_filter,
                                      "usage": usage, "bulk_actions": action_choices("mailbox")})


@require_http_methods(["GET", "POST"])
def mailbox_create(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = selectors.get_domain_for_admin(request.user, domain_pk)
    form = MailboxCreateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = generate_password() if data["generate_password"] else data["password"]
        mailbox = attempt(form, lambda: services.mailbox_create(
            domain=domain, local_part=data["local_part"], password=password, name=data["name"],
            quota_bytes=data["quota_bytes"], active=data["active"], acting_user=request.user))
        if mailbox is not None:
            if data["generate_password"]:
                return _password_shown(request, mailbox, password)
            messages.success(request, _("Mailbox %(address)s created.") % {"address": mailbox.display_address})
            return done(request, reverse("domains:domain-mailbox-list", args=[domain.pk]))
    template = "domains/mailbox_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "domain": domain, "creating": True,
                                      "usage": selectors.mailbox_usage(domain)})


def _password_shown(request: HttpRequest, mailbox, password: str) -> HttpResponse:
    """The generated password, shown once: in place of the form under htmx, else as a page.
    Never stored in clear, never logged."""
    template = "domains/mailbox_password_shown.html"
    if request.htmx:
        template += "#shown"
    return render(request, template, {"mailbox": mailbox, "password": password})


@require_GET
def mailbox_address_check(request: HttpRequest, domain_pk: int) -> HttpResponse:
    """htmx: is the address being typed free? Answers only for the admin's own domains."""
    domain = selectors.get_domain_for_admin(request.user, domain_pk)
    try:
        local_part = normalize_local_part(request.GET.get("local_part", ""))
    except ValidationError as exc:
        return render(request, "domains/mailbox_form.html#address-check", {"ok": False, "message": exc.messages[0]})
    free = selectors.address_is_free(domain, local_part)
    address = f"{local_part}@{domain.display_name}"
    message = (_("%(address)s is free.") if free else _("%(address)s is already a mailbox or an alias.")) % {
        "address": address}
    return render(request, "domains/mailbox_form.html#address-check", {"ok": free, "message": message})


@require_GET
def mailbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one mailbox: quota and usage, forwarding, the aliases that reach it,
    recent audit entries, and its actions."""
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    usage = QuotaUsage.objects.filter(mailbox=mailbox).first()
    entries = list(audit_entries_for(request.user).filter(domain_name=mailbox.domain.name,
                                                          object_repr=mailbox.address)[:10])
    for entry in entries:
        entry.changes = entry_changes(entry)
    return render(request, "domains/mailbox_detail.html", {
        "mailbox": mailbox, "domain": mailbox.domain, "usage": usage,
        "forwarding": selectors.get_forwarding_for_mailbox(mailbox),
        "aliases": list(selectors.aliases_reaching(mailbox)[:50]),
        "entries": entries,
        **_mailbox_vacation(mailbox),
        **mailbox_access(mailbox),   # app passwords and send-as (mailaccess)
    })


def _mailbox_vacation(mailbox) -> dict:
    """The mailbox page's vacation reply (its last login is mailbox.last_login_at)."""
    vacation = vacation_for(mailbox)
    return {"vacation": vacation,
            "vacation_state": vacation_state(vacation)}


@require_http_methods(["GET", "POST"])
def mailbox_update(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    form = MailboxUpdateForm(posted(request), deactivation_warning=deactivation_warning(mailbox),
                             initial={"name": mailbox.name, "quota_bytes": mailbox.quota_bytes,
                                      "active": mailbox.active})
    if request.method == "POST" and form.is_valid():
        if attempt(form, lambda: services.mailbox_update(mailbox=mailbox, acting_user=request.user,
                                                          **form.service_data)):
            messages.success(request, _("Mailbox %(address)s saved.") % {"address": mailbox.display_address})
            return done(request, reverse("domains:mailbox-detail", args=[mailbox.pk]))
    template = "domains/mailbox_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "domain": mailbox.domain, "mailbox": mailbox,
                                      "forwarding": selectors.get_forwarding_for_mailbox(mailbox)})


@require_http_methods(["GET", "POST"])
def mailbox_password(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    form = MailboxPasswordForm(posted(request))
    if request.method == "POST" and form.is_valid():
        password = generate_password() if form.cleaned_data["generate_password"] else form.cleaned_data["password"]
        services.mailbox_set_password(mailbox=mailbox, password=password, acting_user=request.user)
        if form.cleaned_data["generate_password"]:
            return _password_shown(request, mailbox, password)
        messages.success(request, _("Password of %(address)s changed.") % {"address": mailbox.display_address})
        return done(request, reverse("domains:mailbox-detail", args=[mailbox.pk]))
    return render(request, "domains/mailbox_password.html", {"form": form, "mailbox": mailbox})


@require_http_methods(["GET", "POST"])
def mailbox_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    """POST active=1|0 (0 needs confirmed=1); GET is the confirmation page for deactivating."""
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    unconfirmed = deactivation_unconfirmed(
        request, name=mailbox.display_address, warning=deactivation_warning(mailbox),
        url=reverse("domains:mailbox-set-active", args=[mailbox.pk]),
        back_url=back(request, reverse("domains:mailbox-list")))
    if unconfirmed:
        return unconfirmed
    active = request.POST.get("active") == "1"
    mailbox = services.mailbox_set_active(mailbox=mailbox, active=active, acting_user=request.user)
    mailbox = selectors.mailbox_list(request.user).get(pk=mailbox.pk)
    return toggled(request, back=back(request, reverse("domains:mailbox-list")),
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
        return done(request, reverse("domains:domain-mailbox-list", args=[domain_pk]))
    return render(request, "domains/mailbox_confirm_delete.html",
                  {"mailbox": mailbox, "forwarding": selectors.get_forwarding_for_mailbox(mailbox),
                   "references": references.mailbox_references(mailbox)})


@require_http_methods(["GET", "POST"])
def mailbox_rename(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox_for_admin(request.user, pk)
    old = mailbox.display_address
    form = MailboxRenameForm(posted(request), initial={"local_part": mailbox.local_part})
    if request.method == "POST" and form.is_valid():
        renamed = attempt(form, lambda: services.mailbox_rename(
            mailbox=mailbox, local_part=form.cleaned_data["local_part"], acting_user=request.user))
        if renamed is not None:
            messages.success(request, _("%(old)s is now %(new)s.") % {"old": old, "new": renamed.display_address})
            return done(request, reverse("domains:mailbox-detail", args=[renamed.pk]))
    template = "domains/mailbox_rename.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "mailbox": mailbox, "domain": mailbox.domain,
                                      "aliases": selectors.aliases_reaching(mailbox).count()})
