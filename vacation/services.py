"""Writes for vacation replies: every change regenerates the Sieve script Dovecot reads."""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record, snapshot
from domains.models import Mailbox
from domains.text import validate_plain_text

from .models import BODY_MAX_LENGTH, Vacation
from .sieve import VacationRule, vacation_script


def _normalized_body(body: str) -> str:
    # One line-break convention in the table; sieve.quote() writes CRLF into the script.
    return body.replace("\r\n", "\n").replace("\r", "\n")


def _check_text(subject: str, body: str) -> None:
    # Before full_clean(): its CHECK-constraint queries cannot even send NUL or a lone surrogate
    # (a non-UTF-8 byte in a CLI argument) to PostgreSQL, and TextField's max_length binds forms only.
    errors = {}
    for field, value in (("subject", subject), ("body", body.replace("\n", "").replace("\t", ""))):
        try:
            value.encode("utf-8")
            validate_plain_text(value)
        except UnicodeEncodeError:
            errors[field] = ValidationError(_("This text is not valid UTF-8."), code="invalid_text")
        except ValidationError as exc:
            errors[field] = exc
    if "body" not in errors and len(body) > BODY_MAX_LENGTH:
        errors["body"] = ValidationError(_("The message is at most %(max)s characters long."),
                                         code="max_length", params={"max": BODY_MAX_LENGTH})
    if errors:
        raise ValidationError(errors)


def _script(vacation: Vacation, mailbox: Mailbox) -> str:
    return vacation_script(VacationRule(
        from_address=mailbox.address, subject=vacation.subject, body=vacation.body, days=vacation.days,
        first_day=vacation.first_day, last_day=vacation.last_day))


@transaction.atomic
def vacation_set(*, mailbox: Mailbox, active: bool, subject: str, body: str,
                 first_day: datetime.date | None = None, last_day: datetime.date | None = None,
                 days: int = 7, acting_user) -> Vacation:
    """Create or replace `mailbox`'s vacation reply and its Sieve script (vacation/sieve.py):
    the reply comes from the mailbox's own address, to each sender at most once per `days`
    (1 to 60), between `first_day` and `last_day` inclusive (None = open-ended) when `active`.
    Audited as vacation.set. Raises ValidationError (per field) for a subject with a line
    break, a control character, text that is not UTF-8, a message over BODY_MAX_LENGTH
    characters, days out of range, or a last day before the first."""
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    vacation = Vacation.objects.select_for_update().filter(mailbox=mailbox).first()
    before = snapshot(vacation, exclude=("script",)) if vacation else None
    vacation = vacation or Vacation(mailbox=mailbox)
    vacation.active, vacation.subject, vacation.body = bool(active), subject.strip(), _normalized_body(body)
    vacation.first_day, vacation.last_day, vacation.days = first_day, last_day, days
    _check_text(vacation.subject, vacation.body)
    vacation.script = "-"   # full_clean() must see the other fields' errors first
    vacation.full_clean()
    if first_day and last_day and last_day < first_day:
        raise ValidationError({"last_day": ValidationError(_("The last day cannot come before the first."),
                                                           code="last_before_first")})
    vacation.script = _script(vacation, mailbox)
    vacation.save()
    audit_record(actor=acting_user, action="vacation.set", obj=mailbox, object_type="vacation",
                 domain_name=mailbox.domain.name, before=before, after=snapshot(vacation, exclude=("script",)))
    return vacation


@transaction.atomic
def vacation_switch_off(*, mailbox: Mailbox, acting_user) -> Vacation | None:
    """Switch `mailbox`'s vacation reply off, keeping its text; returns it (None if there is
    none). Dovecot stops answering at the next delivery. Audited as vacation.off."""
    vacation = Vacation.objects.select_for_update().filter(mailbox=mailbox).first()
    if vacation is None or not vacation.active:
        return vacation
    vacation.active = False
    vacation.save(update_fields=["active", "modified"])
    audit_record(actor=acting_user, action="vacation.off", obj=mailbox, object_type="vacation",
                 domain_name=mailbox.domain.name, before={"active": True}, after={"active": False})
    return vacation


@transaction.atomic
def vacation_follow_rename(*, mailbox: Mailbox) -> None:
    """Regenerate `mailbox`'s Sieve script after its address changed (domains.services.mailbox_rename),
    so the reply's `:from` is the new address: the old one may be given to another mailbox or
    alias, and the replies would then speak for its new owner. Not audited (the rename is)."""
    vacation = Vacation.objects.select_for_update().filter(mailbox=mailbox).first()
    if vacation is not None:
        vacation.script = _script(vacation, mailbox)
        vacation.save(update_fields=["script", "modified"])
