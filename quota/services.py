"""Warning mailboxes that cross a quota threshold, once per crossing."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from domains.units import format_size

from .models import QuotaNotice
from .selectors import over_threshold


@dataclass
class NotifyResult:
    warned: list[str] = field(default_factory=list)      # mailbox addresses warned now
    summaries: list[str] = field(default_factory=list)   # postmaster addresses sent a summary
    rearmed: int = 0                                     # notices cleared after usage dropped


def quota_notify(*, threshold: int, domain=None, dry_run: bool = False) -> NotifyResult:
    """Warn each mailbox at or over `threshold` % that was not warned since it last crossed it,
    and send each affected domain's postmaster a summary. Re-arms mailboxes now below it."""
    result = NotifyResult()
    ratio = threshold / 100
    with transaction.atomic():
        stale = QuotaNotice.objects.filter(threshold=threshold).exclude(
            mailbox__usage__fill_ratio__gte=ratio)
        if domain is not None:
            stale = stale.filter(mailbox__domain=domain)
        result.rearmed = stale.count() if dry_run else stale.delete()[0]
        already = set(QuotaNotice.objects.filter(threshold=threshold).values_list("mailbox_id", flat=True))
        per_domain: dict[str, list] = defaultdict(list)
        for usage in over_threshold(ratio, domain=domain).iterator(chunk_size=1000):
            mailbox = usage.mailbox
            if mailbox.pk in already or not mailbox.active:
                continue
            percent = round((usage.fill_ratio or 0) * 100)
            result.warned.append(mailbox.address)
            per_domain[mailbox.domain.name].append((mailbox.address, percent, usage.bytes, mailbox.quota_bytes))
            if dry_run:
                continue
            QuotaNotice.objects.create(mailbox=mailbox, threshold=threshold)
            send_mail(
                _("Your mailbox is %(percent)d%% full") % {"percent": percent},
                _("Your mailbox %(address)s uses %(used)s of its %(quota)s quota (%(percent)d%%). "
                  "When it is full, new mail is refused. Delete or archive old messages, or ask your "
                  "administrator for more space.") % {
                    "address": mailbox.address, "used": format_size(usage.bytes),
                    "quota": format_size(mailbox.quota_bytes), "percent": percent},
                settings.DEFAULT_FROM_EMAIL, [mailbox.address],
            )
        for domain_name, rows in sorted(per_domain.items()):
            postmaster = f"postmaster@{domain_name}"
            result.summaries.append(postmaster)
            if dry_run:
                continue
            lines = [f"{address}: {percent}% ({format_size(used)} of {format_size(quota)})"
                     for address, percent, used, quota in rows]
            send_mail(
                ngettext("%(count)d mailbox of %(domain)s crossed %(threshold)d%% of its quota",
                         "%(count)d mailboxes of %(domain)s crossed %(threshold)d%% of their quota", len(rows))
                % {"count": len(rows), "domain": domain_name, "threshold": threshold},
                "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [postmaster],
            )
    return result


def quota_usage_import(*, usage: dict[str, tuple[int, int]]) -> int:
    """Set mailboxes' usage as another system last measured it, for an import (pfimport):
    `usage` maps a mailbox address to (bytes, messages); Dovecot corrects the figures with its
    next quota recalculation. Negative figures (Postfixadmin's quota2 can drift below zero)
    are stored as 0. One set-based UPDATE of the existing usage rows (mailbox_create made
    them); returns how many rows it set."""
    from django.db import connection

    from domains.models import QuotaUsage

    if not usage:
        return 0
    rows = [(address, max(int(b), 0), max(int(m), 0)) for address, (b, m) in usage.items()]
    table = QuotaUsage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS u SET bytes = v.bytes, messages = v.messages "
            "FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS v(username, bytes, messages) "
            "WHERE u.username = v.username",
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]])
        return cursor.rowcount
