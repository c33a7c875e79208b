"""Input shapes for app passwords and send-as grants; the services decide the rest."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from domains.text import validate_plain_text

from .models import AppPassword


class AppPasswordForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, validators=[validate_plain_text],
        help_text=_("Which program or device will use it, e.g. “phone” or “laptop Thunderbird”."),
        error_messages={"required": _("Give the app password a name."),
                        "max_length": _("At most %(limit_value)d characters.")})
    protocols = forms.MultipleChoiceField(
        label=_("Protocols"), choices=AppPassword.Protocol.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where it may log in. None checked: everywhere (IMAP, POP3 and SMTP submission)."),
        error_messages={"invalid_choice": _("Unknown protocol: %(value)s.")})


class SenderGrantForm(forms.Form):
    address = forms.CharField(
        label=_("Address"), max_length=320,
        help_text=_("The envelope sender this mailbox may then use on the submission port, e.g. "
                    "sales@example.org. Domain admins may name addresses of their own domains only."),
        error_messages={"required": _("Enter an address."),
                        "max_length": _("At most %(limit_value)d characters.")})
