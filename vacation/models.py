"""A mailbox's vacation auto-reply, and the Sieve script Dovecot reads for it.

Dovecot reads the view `vacation_sieve` (created by migration 0001) through its Sieve dict
storage: one row per active vacation of an active mailbox of a live domain, with the script
the panel generated (vacation/sieve.py) and `data_id`, the script's MD5, which changes whenever
the script does, so Pigeonhole recompiles (docs/mailstack.md, "Vacation replies").
"""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from domains.models import Mailbox
from domains.text import plain_text_constraint

from .sieve import MAX_DAYS, MIN_DAYS

# Free text of several lines: the plain-text rule of domains/text.py, with LF and TAB allowed.
BODY_FORBIDDEN_SQL_RE = "[\x01-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 10_000


class Vacation(models.Model):
    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, primary_key=True,
                                   related_name="vacation", verbose_name=_("mailbox"))
    active = models.BooleanField(_("on"), default=False)
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(_("message"), max_length=BODY_MAX_LENGTH)
    first_day = models.DateField(_("first day"), null=True, blank=True)
    last_day = models.DateField(_("last day"), null=True, blank=True)
    days = models.PositiveSmallIntegerField(
        _("reply once every N days to the same sender"), default=7,
        validators=[MinValueValidator(MIN_DAYS), MaxValueValidator(MAX_DAYS)])
    # Generated from the fields above by vacation.services; what Dovecot runs.
    script = models.TextField(_("Sieve script"), editable=False)
    modified = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        db_table = "vacation"
        verbose_name = _("vacation reply")
        verbose_name_plural = _("vacation replies")
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=MIN_DAYS) & Q(days__lte=MAX_DAYS), name="vacation_days_range"),
            models.CheckConstraint(condition=Q(first_day__isnull=True) | Q(last_day__isnull=True)
                                   | Q(last_day__gte=F("first_day")), name="vacation_last_day_after_first"),
            models.CheckConstraint(condition=plain_text_constraint("subject"), name="vacation_subject_plain_text"),
            models.CheckConstraint(condition=~Q(body__regex=BODY_FORBIDDEN_SQL_RE), name="vacation_body_plain_text"),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id}: {'on' if self.active else 'off'}"
