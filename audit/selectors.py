"""Reading the audit log, scoped by role: superadmins see everything, domain admins only
the entries of their own domains (entries without a domain, such as admin changes, are
superadmin-only)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Admin
from domains.addresses import address_display, domain_display
from domains.selectors import domains_for
from domains.units import format_size

from .models import AuditEntry


def audit_entries_for(user: Admin) -> QuerySet[AuditEntry]:
    if not getattr(user, "is_authenticated", False) or not isinstance(user, Admin) or not user.is_active:
        return AuditEntry.objects.none()
    if user.is_superadmin:
        return AuditEntry.objects.all()
    # SECURITY: by the domain's identity, not its name (a re-created domain is a new tenant).
    return AuditEntry.objects.filter(domain_id__in=list(domains_for(user).values_list("pk", flat=True)))


def audit_list(user: Admin, *, domain_name: str = "", action: str = "", actor: str = "",
               date_from: datetime.date | None = None, date_to: datetime.date | None = None
               ) -> QuerySet[AuditEntry]:
    """Filtered entries, newest first. Every filter is served by an index on `created`,
    (domain_name, created), (actor_label, created) or `action` (with its LIKE-prefix index)."""
    entries = audit_entries_for(user)
    if domain_name:
        # SECURITY: a domain admin asking for another domain's history gets a 404, not an
        # empty page that would still confirm the name means something.
        if not user.is_superadmin and not domains_for(user).filter(name=domain_name).exists():
            raise Http404
        entries = entries.filter(domain_name=domain_name)
    if action:
        entries = entries.filter(action__startswith=action) if action.endswith(".") else entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_label=actor)
    tz = timezone.get_current_timezone()
    if date_from:
        entries = entries.filter(created__gte=datetime.datetime.combine(date_from, datetime.time.min, tz))
    if date_to:
        entries = entries.filter(created__lt=datetime.datetime.combine(
            date_to + datetime.timedelta(days=1), datetime.time.min, tz))
    return entries.order_by("-created", "-id")


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def _readable(field: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field.endswith("_bytes") and isinstance(value, int):
        return format_size(value) if value else _("unlimited")
    if isinstance(value, list):
        return ", ".join(_readable(field, item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_readable(key, item)}" for key, item in value.items())
    if isinstance(value, str) and "@" in value:
        return address_display(value)
    if field in {"name", "domain_name"} and isinstance(value, str) and "." in value:
        return domain_display(value)
    return str(value)


def object_display(entry: AuditEntry) -> str:
    """The object's name as admins know it: Unicode domains, even inside addresses."""
    repr_ = entry.object_repr
    if "@" in repr_:
        return address_display(repr_)
    if "." in repr_ and " " not in repr_:
        return domain_display(repr_)
    return repr_


# Row ids and foreign keys mean nothing to a reader: the entry already names the object
# and its domain.
_HIDDEN_FIELDS = {"id"}

FIELD_LABELS = {
    "active": gettext_lazy("active"), "address": gettext_lazy("address"), "destinations": gettext_lazy("destinations"),
    "name": gettext_lazy("name"), "description": gettext_lazy("description"), "quota_bytes": gettext_lazy("quota"),
    "max_mailboxes": gettext_lazy("maximum mailboxes"), "max_aliases": gettext_lazy("maximum aliases"),
    "max_quota_bytes": gettext_lazy("maximum quota per mailbox"), "default_quota_bytes": gettext_lazy("default quota"),
    "backup_mx": gettext_lazy("backup MX"), "transport": gettext_lazy("transport"), "role": gettext_lazy("role"),
    "domains": gettext_lazy("domains"), "email": gettext_lazy("e-mail address"), "is_active": gettext_lazy("active"),
    "username": gettext_lazy("user name"), "local_part": gettext_lazy("address name"), "forwarding": gettext_lazy("forwarding"),
    "allow_external_forwarding": gettext_lazy("forwarding to other domains"), "deleted": gettext_lazy("deleted with it"),
}


def entry_changes(entry: AuditEntry) -> list[Change]:
    """Before/after as rows a person can read: one per field, values formatted."""
    before, after = entry.before or {}, entry.after or {}
    fields = [f for f in dict.fromkeys([*before, *after]) if f not in _HIDDEN_FIELDS and not f.endswith("_id")]
    return [Change(field=str(FIELD_LABELS.get(field, field.replace("_", " "))),
                   before=_readable(field, before[field]) if field in before else "",
                   after=_readable(field, after[field]) if field in after else "")
            for field in fields]
