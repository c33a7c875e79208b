from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DkimKey


class DkimGenerateForm(forms.Form):
    algorithm = forms.ChoiceField(
        label=_("Algorithm"), choices=DkimKey.Algorithm.choices, initial=DkimKey.Algorithm.RSA_2048,
        help_text=_("RSA 2048 is verified everywhere; Ed25519 is shorter but not every receiver "
                    "checks it yet."),
        error_messages={"invalid_choice": _("Choose RSA 2048 or Ed25519.")},
    )
