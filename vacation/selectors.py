"""Reads for vacation replies."""
from __future__ import annotations

import datetime

from django.utils import timezone

from domains.models import Mailbox

from .models import Vacation


def vacation_for(mailbox: Mailbox) -> Vacation | None:
    return Vacation.objects.filter(mailbox=mailbox).first()


def vacation_state(vacation: Vacation | None, today: datetime.date | None = None) -> str:
    """"off", "scheduled" (on, first day still ahead), "ended" (on, last day passed) or "on"."""
    if vacation is None or not vacation.active:
        return "off"
    today = today or timezone.localdate()
    if vacation.first_day and today < vacation.first_day:
        return "scheduled"
    if vacation.last_day and today > vacation.last_day:
        return "ended"
    return "on"


def vacation_rows(mailboxes) -> list[dict]:
    """JSON-ready rows (address, state, subject, body, first_day, last_day, days) of the
    vacations of `mailboxes` (a Mailbox queryset, already scoped by the caller)."""
    rows = []
    for vacation in Vacation.objects.filter(mailbox__in=mailboxes).select_related("mailbox").order_by("mailbox__address"):
        rows.append({"address": vacation.mailbox.address, "active": vacation.active,
                     "state": vacation_state(vacation), "subject": vacation.subject, "body": vacation.body,
                     "first_day": vacation.first_day.isoformat() if vacation.first_day else None,
                     "last_day": vacation.last_day.isoformat() if vacation.last_day else None,
                     "days": vacation.days})
    return rows
