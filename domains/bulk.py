"""Bulk actions on the lists: one request changes many rows, all or nothing.

Each row goes through its own service in domains/services.py (so every rule and check
there, limits and routing included, holds for bulk changes too, and each row gets its own
audit entry); the whole batch runs in one transaction, so the first refusal undoes the rows
already changed and the error names the row it stopped at.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import services as admin_services
from accounts.models import Admin

from . import services
from .models import Alias, AliasDomain, Domain, Mailbox

# One request changes at most this many rows: beyond it, narrow the search (a transaction
# over 100,000 mailboxes would hold their domain locks for minutes).
BULK_MAX = 5000

ACTIONS = {
    "activate": gettext_lazy("Activate"),
    "deactivate": gettext_lazy("Deactivate"),
    "delete": gettext_lazy("Delete"),
    "set_quota": gettext_lazy("Set quota"),
}


@dataclass(frozen=True)
class Kind:
    """What a bulk action needs to know about one kind of row."""

    model: type
    actions: tuple[str, ...]
    name: Callable[[object], str]
    set_active: Callable[..., object]
    delete: Callable[..., object]


KINDS = {
    "mailbox": Kind(Mailbox, ("activate", "deactivate", "set_quota", "delete"), lambda m: m.display_address,
                    lambda obj, active, user: services.mailbox_set_active(mailbox=obj, active=active, acting_user=user),
                    lambda obj, user: services.mailbox_delete(mailbox=obj, acting_user=user)),
    "alias": Kind(Alias, ("activate", "deactivate", "delete"), lambda a: a.display_address,
                  lambda obj, active, user: services.alias_set_active(alias=obj, active=active, acting_user=user),
                  lambda obj, user: services.alias_delete(alias=obj, acting_user=user)),
    "domain": Kind(Domain, ("activate", "deactivate", "delete"), lambda d: d.display_name,
                   lambda obj, active, user: services.domain_set_active(domain=obj, active=active, acting_user=user),
                   lambda obj, user: services.domain_delete(domain=obj, acting_user=user)),
    "aliasdomain": Kind(AliasDomain, ("activate", "deactivate", "delete"), lambda a: a.display_name,
                        lambda obj, active, user: services.alias_domain_set_active(
                            alias_domain=obj, active=active, acting_user=user),
                        lambda obj, user: services.alias_domain_delete(alias_domain=obj, acting_user=user)),
    "admin": Kind(Admin, ("activate", "deactivate", "delete"), lambda a: a.get_username(),
                  lambda obj, active, user: admin_services.admin_update(admin=obj, is_active=active, acting_user=user),
                  lambda obj, user: admin_services.admin_delete(admin=obj, acting_user=user)),
}


def bulk_summary(kind: str, rows: QuerySet) -> list[str]:
    """What the batch touches, in sentences with counts, for the one confirmation."""
    count = rows.count()
    if kind == "mailbox":
        forwardings = Alias.objects.filter(mailbox__in=rows).count()
        return [ngettext("%(count)d mailbox", "%(count)d mailboxes", count) % {"count": count},
                ngettext("%(count)d forwarding goes with them when deleted",
                         "%(count)d forwardings go with them when deleted", forwardings) % {"count": forwardings}]
    if kind == "domain":
        totals = rows.aggregate(mailboxes=Count("mailboxes", distinct=True),
                                aliases=Count("aliases", filter=Q(aliases__mailbox__isnull=True), distinct=True))
        return [ngettext("%(count)d domain", "%(count)d domains", count) % {"count": count},
                ngettext("holding %(count)d mailbox", "holding %(count)d mailboxes", totals["mailboxes"])
                % {"count": totals["mailboxes"]},
                ngettext("and %(count)d alias", "and %(count)d aliases", totals["aliases"]) % {"count": totals["aliases"]}]
    if kind == "alias":
        return [ngettext("%(count)d alias", "%(count)d aliases", count) % {"count": count}]
    if kind == "admin":
        return [ngettext("%(count)d administrator", "%(count)d administrators", count) % {"count": count}]
    return [ngettext("%(count)d alias domain", "%(count)d alias domains", count) % {"count": count}]


@transaction.atomic
def bulk_apply(*, kind: str, action: str, rows: QuerySet, acting_user, quota_bytes: int | None = None) -> int:
    """Apply `action` to every row of `rows` (already scoped to what `acting_user` may touch)
    through the row's own service; all or nothing. Returns how many rows it changed. Raises
    ValidationError naming the first row a service refused (nothing is then changed)."""
    spec = KINDS[kind]
    if action not in spec.actions:
        raise ValidationError(_("This action does not apply here."), code="bulk_action_invalid")
    if action == "set_quota" and quota_bytes is None:
        raise ValidationError(_("Enter the quota to set."), code="bulk_quota_missing")
    objects = list(rows.order_by("pk")[:BULK_MAX + 1])
    if len(objects) > BULK_MAX:
        raise ValidationError(_("At most %(max)d rows at once: narrow the search.") % {"max": BULK_MAX},
                              code="bulk_too_many")
    for obj in objects:
        if kind == "admin" and obj.pk == getattr(acting_user, "pk", None) and action != "activate":
            raise ValidationError(_("You cannot deactivate or delete your own account. Nothing was changed."),
                                  code="bulk_admin_self")
        try:
            if action in ("activate", "deactivate"):
                spec.set_active(obj, action == "activate", acting_user)
            elif action == "delete":
                spec.delete(obj, acting_user)
            else:
                services.mailbox_update(mailbox=obj, quota_bytes=quota_bytes, acting_user=acting_user)
        except ValidationError as exc:
            raise ValidationError(_("%(name)s: %(error)s Nothing was changed.") % {
                "name": spec.name(obj), "error": " ".join(exc.messages)}, code="bulk_row_refused") from None
    return len(objects)


def action_choices(kind: str) -> list[tuple[str, str]]:
    """The bulk actions of a list, for its select."""
    return [(action, str(ACTIONS[action])) for action in KINDS[kind].actions]
