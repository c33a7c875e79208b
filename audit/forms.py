"""The audit log's filter form (GET): it validates input shape only."""
from __future__ import annotations

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.addresses import normalize_domain

# Values ending with "." match every action on that kind of object.
ACTION_CHOICES = [
    ("", _("All actions")),
    (_("Domains"), [("domain.", _("Any domain change")), ("domain.create", _("Domain created")),
                    ("domain.update", _("Domain changed")), ("domain.delete", _("Domain deleted"))]),
    (_("Mailboxes"), [("mailbox.", _("Any mailbox change")), ("mailbox.create", _("Mailbox created")),
                      ("mailbox.update", _("Mailbox changed")), ("mailbox.password", _("Mailbox password set")),
                      ("mailbox.delete", _("Mailbox deleted")), ("forwarding.", _("Forwarding changed"))]),
    (_("Aliases"), [("alias.", _("Any alias change")), ("alias.create", _("Alias created")),
                    ("alias.update", _("Alias changed")), ("alias.delete", _("Alias deleted")),
                    ("aliasdomain.", _("Any alias domain change"))]),
    (_("Administrators"), [("admin.", _("Any administrator change")), ("admin.create", _("Administrator created")),
                           ("admin.update", _("Administrator changed")),
                           ("admin.password", _("Administrator password set")),
                           ("admin.delete", _("Administrator deleted"))]),
]


# The log's dates lie in this range; a date outside it is an error, not an overflow when the
# selector adds a day to the end date (9999-12-31 + 1 day was a 500).
DATE_BOUNDS = {"min_value": datetime.date(2000, 1, 1), "max_value": datetime.date(9998, 12, 31)}


class BoundedDateField(forms.DateField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [MinValueValidator(DATE_BOUNDS["min_value"]), MaxValueValidator(DATE_BOUNDS["max_value"])]


class AuditFilterForm(forms.Form):
    domain = forms.CharField(label=_("Domain"), required=False, max_length=253)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=ACTION_CHOICES)
    actor = forms.CharField(label=_("Who"), required=False, max_length=320,
                            help_text=_("User name, exactly"))
    date_from = BoundedDateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = BoundedDateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean_domain(self) -> str:
        value = self.cleaned_data["domain"].strip()
        if not value:
            return ""
        try:
            return normalize_domain(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="domain_invalid") from None

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", ValidationError(_("The end date is before the start date."),
                                                      code="date_range_inverted"))
        return data
