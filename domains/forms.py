"""Forms for domains and mailboxes: they validate the shape of input; services.py decides."""
from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .addresses import normalize_domain, normalize_local_part
from .services import ROLE_ADDRESSES
from .text import validate_plain_text
from .units import MAX_LENGTH, format_quota, parse_size


class SizeInput(forms.TextInput):
    """A text input with the unit a bare number is read in, shown right after the field."""

    def __init__(self, unit, attrs=None):
        super().__init__(attrs)
        self.unit = unit

    def render(self, name, value, attrs=None, renderer=None):
        return format_html('{} <span class="unit">{}</span>', super().render(name, value, attrs, renderer), self.unit)


class SizeField(forms.CharField):
    """A size as admins type it (domains/units.py): a bare number is in MiB, the unit shown at
    the field; "unlimited" (or 0) is no limit. Cleans to bytes, or None when left empty (the
    form then keeps the current value, see KeepSizeWhenEmpty). Shows exactly the stored bytes."""

    bare_unit = "M"

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("In MiB, or with a unit: 500M, 2G, 1T; “unlimited” for no limit."))
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", SizeInput(_("MiB")))
        super().__init__(**kwargs)
        self.widget.attrs.update({"maxlength": str(MAX_LENGTH), "inputmode": "text", "spellcheck": "false"})

    def prepare_value(self, value):
        # Exact: what the field shows parses back to the same bytes (issue 14).
        return format_quota(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if len(value) > MAX_LENGTH:
            raise ValidationError(_("A size is at most %(max)d characters."), code="size_too_long",
                                  params={"max": MAX_LENGTH})
        if value in ("", None):
            return None
        return parse_size(value, bare_unit=self.bare_unit)


class KeepSizeWhenEmpty:
    """An emptied size field keeps the form's initial value (the stored one on an edit form):
    empty never means unlimited; None is left only where there is no initial (mailbox create:
    the service applies the domain's default)."""

    def clean(self):
        data = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, SizeField) and name in data and data[name] is None:
                initial = self.get_initial_for_field(field, name)
                data[name] = parse_size(initial) if isinstance(initial, (int, str)) and initial != "" else None
        return data


class DomainForm(KeepSizeWhenEmpty, forms.Form):
    description = forms.CharField(label=_("Description"), required=False, max_length=255,
                                  validators=[validate_plain_text])
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    max_mailboxes = forms.IntegerField(label=_("Maximum mailboxes"), min_value=0, initial=0,
                                       help_text=_("0 = unlimited"))
    max_aliases = forms.IntegerField(label=_("Maximum aliases"), min_value=0, initial=0,
                                     help_text=_("0 = unlimited; forwardings do not count"))
    quota_bytes = SizeField(label=_("Total quota of the domain"), initial=0)
    max_quota_bytes = SizeField(label=_("Maximum quota per mailbox"), initial=0)
    default_quota_bytes = SizeField(label=_("Default mailbox quota"), initial=0)
    backup_mx = forms.BooleanField(label=_("Backup MX (relay only)"), required=False,
                                   help_text=_("Accept mail for this domain and relay it to its primary MX."))
    transport = forms.CharField(label=_("Transport"), required=False, max_length=255, validators=[validate_plain_text],
                                help_text=_("Postfix transport, e.g. relay:[mx1.example.org]; empty for the default."))
    allow_external_forwarding = forms.BooleanField(label=_("Mail users may forward to other servers"),
                                                   required=False, initial=True)

    # Fields a domain admin may change on their own domains; limits and routing stay with superadmins.
    DOMAIN_ADMIN_FIELDS = ("description", "default_quota_bytes", "allow_external_forwarding")

    def __init__(self, *args, limited: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if limited:
            for name in list(self.fields):
                if name not in self.DOMAIN_ADMIN_FIELDS:
                    del self.fields[name]


class DomainCreateForm(DomainForm):
    name = forms.CharField(label=_("Domain name"), max_length=253,
                           help_text=_("Internationalized names are accepted (stored as punycode)."))
    role_addresses = forms.MultipleChoiceField(
        label=_("Standard role addresses (RFC 2142)"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(r, r) for r in ROLE_ADDRESSES], initial=["postmaster", "abuse"],
        help_text=_("Created as aliases to the address below."))
    role_target = forms.CharField(label=_("Role addresses deliver to"), required=False, max_length=320)
    allow_lookalike = forms.BooleanField(
        label=_("I have checked this name"), required=False,
        help_text=_("Accept a name that can be mistaken for another (mixed writing systems, look-alike letters)."))

    field_order = ["name", "description"]

    def clean_name(self):
        return normalize_domain(self.cleaned_data["name"])


class PasswordPairMixin:
    """A password typed twice and checked against the policy, or generated by the panel."""

    def clean(self):
        data = super().clean()
        if data.get("generate_password"):
            return data
        password, confirm = data.get("password"), data.get("password_confirm")
        if not password:
            self.add_error("password", ValidationError(_("Type a password, or let the panel generate one."),
                                                       code="password_missing"))
        elif password != confirm:
            self.add_error("password_confirm", ValidationError(_("The two passwords differ."), code="password_mismatch"))
        else:
            try:
                validate_password(password)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class MailboxCreateForm(KeepSizeWhenEmpty, PasswordPairMixin, forms.Form):
    local_part = forms.CharField(label=_("Address name"), max_length=64,
                                 help_text=_("The part before the @."))
    name = forms.CharField(label=_("Display name"), required=False, max_length=255,
                           validators=[validate_plain_text])
    quota_bytes = SizeField(label=_("Quota"), required=False,
                            help_text=_("Empty for the domain's default; in MiB, or with a unit: 500M, 2G; "
                                        "“unlimited” for no limit."))
    generate_password = forms.BooleanField(label=_("Generate a password (shown once)"), required=False)
    password = forms.CharField(label=_("Password"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=password_validators_help_text_html())
    password_confirm = forms.CharField(label=_("Password again"), required=False, strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_local_part(self):
        return normalize_local_part(self.cleaned_data["local_part"])


class MailboxUpdateForm(KeepSizeWhenEmpty, forms.Form):
    name = forms.CharField(label=_("Display name"), required=False, max_length=255,
                           validators=[validate_plain_text])
    quota_bytes = SizeField(label=_("Quota"))
    active = forms.BooleanField(label=_("Active"), required=False)


class MailboxPasswordForm(PasswordPairMixin, forms.Form):
    generate_password = forms.BooleanField(label=_("Generate a password (shown once)"), required=False)
    password = forms.CharField(label=_("New password"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=password_validators_help_text_html())
    password_confirm = forms.CharField(label=_("New password again"), required=False, strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
