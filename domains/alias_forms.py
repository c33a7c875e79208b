"""Forms for aliases, mailbox forwarding and alias domains. They validate shape; services decide."""
from __future__ import annotations

import re

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Admin

from . import selectors
from .addresses import domain_label

# One destination per line; commas and spaces also separate, as people paste lists.
_SEPARATORS = re.compile(r"[\s,;]+")


def split_destinations(text: str) -> list[str]:
    return [item for item in _SEPARATORS.split(text or "") if item]


class DestinationsField(forms.CharField):
    """A textarea of addresses, one per line, cleaned to a list (services normalize them)."""

    widget = forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocapitalize": "none"})

    def to_python(self, value):
        return split_destinations(super().to_python(value))


class DomainChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return domain_label(obj.name)  # Unicode, and the punycode that decides


class AliasCreateForm(forms.Form):
    domain = DomainChoiceField(label=_("Domain"), queryset=None,
                               error_messages={"required": _("Choose the domain of the alias."),
                                               "invalid_choice": _("Choose one of your domains.")})
    local_part = forms.CharField(label=_("Address name"), required=False, max_length=64,
                                 help_text=_("The part before the @."),
                                 widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}))
    catchall = forms.BooleanField(label=_("Catch-all"), required=False,
                                  help_text=_("Receive mail for every address of the domain that "
                                              "is neither a mailbox nor an alias."))
    destinations = DestinationsField(label=_("Destinations"),
                                     help_text=_("One address per line."),
                                     error_messages={"required": _("Enter at least one destination address.")})
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user: Admin, **kwargs):
        super().__init__(*args, **kwargs)
        # SECURITY: only the admin's own domains are valid choices, whatever the client posts.
        self.fields["domain"].queryset = selectors.domains_holding_addresses(user)
        # Say whether the address is free while the admin types, before they submit.
        check = {"hx-get": reverse("domains:alias-address-check"), "hx-target": "#address-check",
                 "hx-include": "#alias-form [name=domain], #alias-form [name=local_part], #alias-form [name=catchall]",
                 "hx-sync": "this:replace"}
        self.fields["local_part"].widget.attrs.update(check, **{"hx-trigger": "input changed delay:400ms, blur changed"})
        self.fields["domain"].widget.attrs.update(check, **{"hx-trigger": "change"})
        self.fields["catchall"].widget.attrs.update(check, **{"hx-trigger": "change"})

    def clean(self):
        data = super().clean()
        if data.get("catchall"):
            if data.get("local_part", "").strip():
                self.add_error("local_part", forms.ValidationError(
                    _("A catch-all has no address name: clear it or untick catch-all."),
                    code="catchall_with_local_part"))
            data["local_part"] = ""
        elif not data.get("local_part", "").strip() and "local_part" not in self.errors:
            self.add_error("local_part", forms.ValidationError(
                _("Enter the part before the @, or tick catch-all."), code="local_part_required"))
        return data


class AliasUpdateForm(forms.Form):
    destinations = DestinationsField(label=_("Destinations"), help_text=_("One address per line."),
                                     error_messages={"required": _("Enter at least one destination address.")})
    active = forms.BooleanField(label=_("Active"), required=False)


class ForwardingForm(forms.Form):
    destinations = DestinationsField(
        label=_("Forward to"), required=False,
        help_text=_("One address per line. Leave empty to stop forwarding."))
    keep_copy = forms.BooleanField(label=_("Keep a copy in this mailbox"), required=False, initial=True)


class AliasDomainForm(forms.Form):
    name = forms.CharField(label=_("Alias domain"), max_length=253,
                           help_text=_("Every address of this domain delivers to the same address "
                                       "of the target domain."),
                           widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
                           error_messages={"required": _("Enter a domain name.")})
    target = DomainChoiceField(label=_("Target domain"), queryset=None,
                               error_messages={"required": _("Choose the target domain."),
                                               "invalid_choice": _("Choose one of your domains.")})
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    allow_lookalike = forms.BooleanField(
        label=_("I have checked this name"), required=False,
        help_text=_("Accept a name that can be mistaken for another (mixed writing systems, look-alike letters)."))

    def __init__(self, *args, user: Admin, **kwargs):
        super().__init__(*args, **kwargs)
        # SECURITY: the target must be one of the admin's domains.
        self.fields["target"].queryset = selectors.domains_holding_addresses(user)
        if not user.is_superadmin:
            # A domain admin's alias domain is a request: inactive until a superadmin approves it.
            del self.fields["active"]
            del self.fields["allow_lookalike"]


class AliasDomainApproveForm(forms.Form):
    allow_lookalike = forms.BooleanField(
        label=_("I have checked this name"), required=False,
        help_text=_("Accept a name that can be mistaken for another (mixed writing systems, look-alike letters)."))
