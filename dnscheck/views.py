"""The DNS page of a domain: checks (run on demand), records to publish, DKIM keys."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from domains.models import Domain
from domains.selectors import get_domain_for_admin

from . import services
from .checks import CHECK_TITLES, ServerIdentity
from .forms import DkimGenerateForm
from .records import zone_snippet
from .selectors import dkim_keys_for, get_dkim_key_for_domain, latest_run

TEMPLATE = "dnscheck/domain_dns.html"


def _context(domain: Domain, **extra) -> dict:
    keys = list(dkim_keys_for(domain))
    active_keys = [k for k in keys if k.active]
    run = latest_run(domain)
    return {
        "domain": domain,
        "run": run,
        "results": [(CHECK_TITLES.get(r.check_name, r.check_name), r) for r in run.results.all()] if run else [],
        "keys": keys,
        "active_keys": active_keys,
        "snippet": zone_snippet(domain.name, ServerIdentity.from_settings(), active_keys),
        "form": extra.pop("form", None) or DkimGenerateForm(),
        **extra,
    }


@require_GET
def domain_dns(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = get_domain_for_admin(request.user, domain_pk)
    return render(request, TEMPLATE, _context(domain))


@require_POST
def domain_dns_check(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = get_domain_for_admin(request.user, domain_pk)
    busy = ""
    try:
        services.dns_check_run(domain=domain, acting_user=request.user)
    except services.DnsCheckBusy as exc:
        busy = exc.messages[0]
    if request.htmx:
        return render(request, TEMPLATE + "#check-results", _context(domain, busy=busy))
    if busy:
        messages.warning(request, busy)
    return redirect("dnscheck:domain", domain_pk=domain.pk)


@require_POST
def dkim_generate(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = get_domain_for_admin(request.user, domain_pk)
    form = DkimGenerateForm(request.POST)
    if not form.is_valid():
        return render(request, TEMPLATE, _context(domain, form=form), status=200 if request.htmx else 400)
    key = services.dkim_key_generate(domain=domain, algorithm=form.cleaned_data["algorithm"],
                                     acting_user=request.user)
    messages.success(request, _("New DKIM key “%(selector)s” created. Publish its record, then run "
                                "the checks.") % {"selector": key.selector})
    return redirect("dnscheck:domain", domain_pk=domain.pk)


@require_POST
def dkim_retire(request: HttpRequest, domain_pk: int, key_pk: int) -> HttpResponse:
    domain = get_domain_for_admin(request.user, domain_pk)
    # SECURITY: the key is looked up inside the domain the admin may manage.
    key = get_dkim_key_for_domain(domain, key_pk)
    services.dkim_key_retire(key=key, acting_user=request.user)
    messages.success(request, _("DKIM key “%(selector)s” retired: remove its record from the DNS.")
                     % {"selector": key.selector})
    return redirect("dnscheck:domain", domain_pk=domain.pk)
