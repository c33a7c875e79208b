"""The routing explainer page: where mail to an address goes, and who may send as it."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import selectors
from .addresses import normalize_address
from .models import AliasDomain
from .routing_db import resolve
from .routing_text import describe, domain_of


def _scope(user) -> set[str] | None:
    """The domain names whose addresses `user` may explain; None for every domain."""
    if getattr(user, "is_superadmin", False):
        return None
    domains = selectors.domains_for(user)
    names = set(domains.values_list("name", flat=True))
    return names | set(AliasDomain.objects.filter(target__in=domains).values_list("name", flat=True))


@require_GET
def route(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("address", "").strip()
    context = {"query": query}
    status = 200
    if query:
        try:
            address = normalize_address(query)
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
        else:
            scope = _scope(request.user)
            # SECURITY: a domain admin explains only addresses of their domains, and sees the
            # routing inside other domains as "a domain you do not manage", never its members.
            if scope is not None and domain_of(address) not in scope:
                context["error"] = _("You can only explain addresses of the domains you manage.")
                status = 404   # like every view asked about another domain, with the search box kept
            else:
                visible = (lambda a: True) if scope is None else (lambda a: domain_of(a) in scope)
                context["explained"] = describe(resolve(address), visible)
    return render(request, "domains/route.html", context, status=status)
