from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from .services import EXPIRY_DAYS


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. the script or host that uses it."))
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"), coerce=int, initial=90,
        choices=[(days, ngettext_lazy("%(days)d day", "%(days)d days", days) % {"days": days}) for days in EXPIRY_DAYS])
