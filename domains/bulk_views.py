"""Bulk actions on the mailbox, alias, domain and alias-domain lists (domains/bulk.py).

The list posts the selected rows (or "all N matching" with the list's filters), the action
and, for quotas, the size. The first post answers with one confirmation page that counts
what the batch touches; the confirmed post applies it and returns to the list."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors as admin_selectors
from accounts.models import Admin

from . import selectors
from .bulk import ACTIONS, BULK_MAX, KINDS, bulk_apply, bulk_summary
from .effects import bulk_deactivation_warning
from .http import ACTIVE_FILTERS, back, int_or_none, require_superadmin
from .units import parse_size

LIST_URLS = {"mailbox": "domains:mailbox-list", "alias": "domains:alias-list", "domain": "domains:domain-list",
             "aliasdomain": "domains:aliasdomain-list", "admin": "accounts:admin-list"}


def _scoped_rows(request: HttpRequest, kind: str) -> QuerySet:
    """The rows this request names, within what the admin may see: the ticked ones, or every
    row matching the list's filters (scope=matching)."""
    user, data = request.user, request.POST
    matching = data.get("scope") == "matching"
    pks = [pk for pk in (int_or_none(v) for v in data.getlist("pk")) if pk is not None]
    domain_pk = int_or_none(data.get("domain"))
    # SECURITY: the domain filter came from the client; the scoped helper 404s outside the scope.
    domain = selectors.get_domain_for_admin(user, domain_pk) if domain_pk else None
    query = data.get("q", "")[:200]
    active = ACTIVE_FILTERS.get(data.get("active", ""))
    if kind == "mailbox":
        scoped = (selectors.mailbox_list(user, domain=domain, query=query, active=active) if matching
                  else selectors.mailboxes_for(user).filter(pk__in=pks))
    elif kind == "alias":
        scoped = (selectors.alias_list(user, domain=domain, query=query, active=active) if matching
                  else selectors.aliases_for(user).filter(mailbox__isnull=True, pk__in=pks))
    elif kind == "admin":
        scoped = (admin_selectors.admin_list(user, query=query[:150]) if matching
                  else Admin.objects.filter(pk__in=pks))
    elif kind == "domain":
        scoped = (selectors.domain_list(user, query=query) if matching
                  else selectors.domains_for(user).filter(pk__in=pks))
    else:
        scoped = (selectors.alias_domain_list(user, domain=domain, query=query) if matching
                  else selectors.alias_domains_for(user).filter(pk__in=pks))
    model = KINDS[kind].model
    return model.objects.filter(pk__in=scoped.order_by().values("pk"))


@require_POST
def bulk_action(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    if kind == "domain":
        require_superadmin(request)
    if kind == "admin":
        admin_selectors.require_superadmin(request.user)  # 404, as on the admin pages
    back_url = back(request, reverse(LIST_URLS[kind]))
    action = request.POST.get("action", "")
    if action not in KINDS[kind].actions:
        messages.error(request, _("Choose an action."))
        return redirect(back_url)
    rows = _scoped_rows(request, kind)
    count = rows.count()
    if not count:
        messages.error(request, _("Select at least one row."))
        return redirect(back_url)
    if count > BULK_MAX:
        messages.error(request, _("At most %(max)d rows at once: narrow the search.") % {"max": BULK_MAX})
        return redirect(back_url)
    quota_bytes = None
    if action == "set_quota":
        try:
            quota_bytes = parse_size(request.POST.get("quota", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(back_url)
    if request.POST.get("confirmed") != "1":
        return render(request, "domains/bulk_confirm.html", {
            "kind": kind, "action": action, "action_label": ACTIONS[action], "count": count,
            "summary": bulk_summary(kind, rows),
            "warning": bulk_deactivation_warning(kind, rows) if action == "deactivate" else "",
            "names": [KINDS[kind].name(o) for o in rows.order_by("pk")[:10]],
            "fields": [(k, v) for k in request.POST if k not in ("csrfmiddlewaretoken", "confirmed")
                       for v in request.POST.getlist(k)],
            "back_url": back_url, "quota_bytes": quota_bytes,
        })
    try:
        changed = bulk_apply(kind=kind, action=action, rows=rows, acting_user=request.user, quota_bytes=quota_bytes)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, ngettext("%(action)s: %(count)d row done.", "%(action)s: %(count)d rows done.",
                                           changed) % {"action": ACTIONS[action], "count": changed})
    return redirect(back_url)
