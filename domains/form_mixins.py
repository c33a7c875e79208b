"""Behaviour shared by the panel's forms."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ConfirmDeactivationMixin:
    """Unticking "Active" on something that receives mail must be confirmed.

    The form takes `deactivation_warning` (domains/effects.py: what stops, with counts).
    When the submitted data turns an active object off, a "Yes, deactivate" checkbox
    appears with that warning, and the form is invalid until it is ticked: the admin reads
    what stops before it stops.
    """

    def __init__(self, *args, deactivation_warning: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        turning_off = (self.is_bound and "active" in self.fields and self.initial.get("active")
                       and not self.fields["active"].widget.value_from_datadict(self.data, self.files, self.add_prefix("active")))
        if deactivation_warning and turning_off:
            self.fields["confirm_deactivation"] = forms.BooleanField(
                label=_("Yes, deactivate it"), required=False, help_text=deactivation_warning)

    def clean(self):
        data = super().clean()
        if "confirm_deactivation" in self.fields and not data.get("confirm_deactivation"):
            self.add_error("confirm_deactivation", ValidationError(
                _("Deactivating stops mail: tick the box to confirm."), code="deactivation_unconfirmed"))
        return data

    @property
    def service_data(self) -> dict:
        """cleaned_data without the confirmation, for the service call."""
        return {k: v for k, v in self.cleaned_data.items() if k != "confirm_deactivation"}
