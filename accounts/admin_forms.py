"""Forms for superadmins managing admin accounts. The password policy runs in the services."""
from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from domains.addresses import domain_label
from domains.models import Domain

from .models import Admin


class DomainsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return domain_label(obj.name)  # Unicode, and the punycode that decides


def _domains_field() -> DomainsField:
    return DomainsField(label=_("Managed domains"), required=False, queryset=Domain.objects.order_by("name"),
                        widget=forms.SelectMultiple(attrs={"size": 8}),
                        help_text=_("Only for domain admins; superadmins manage every domain."))


class PasswordPairMixin:
    """A new password typed twice."""

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_confirm") and data["password"] != data["password_confirm"]:
            self.add_error("password_confirm", ValidationError(_("The two passwords differ."),
                                                               code="password_mismatch"))
        return data


def _password_fields() -> tuple[forms.CharField, forms.CharField]:
    return (
        forms.CharField(label=_("Password"), strip=False,
                        help_text=lazy(password_validators_help_text_html, str)(),
                        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})),
        forms.CharField(label=_("Password again"), strip=False,
                        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})),
    )


class AdminCreateForm(PasswordPairMixin, forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150,
                               widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}))
    email = forms.EmailField(label=_("E-mail address"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Admin.Role.choices, initial=Admin.Role.DOMAIN_ADMIN)
    domains = _domains_field()
    password, password_confirm = _password_fields()


class AdminUpdateForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Admin.Role.choices)
    domains = _domains_field()
    is_active = forms.BooleanField(label=_("Active"), required=False,
                                   help_text=_("An inactive admin cannot log in."))


class AdminPasswordForm(PasswordPairMixin, forms.Form):
    password, password_confirm = _password_fields()
