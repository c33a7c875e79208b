from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.models import Mailbox
from domains.password_schemes import UnverifiableHash

from .mailusers import verify_password
from .throttle import Throttled, check_password_attempt, mailbox_credentials


THROTTLED_MESSAGE = _("Too many wrong passwords for this account or from your network. Wait a few minutes "
                      "before trying again.")


class MailLoginForm(forms.Form):
    address = forms.CharField(label=_("E-mail address"), max_length=320,
                              widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class MailPasswordForm(forms.Form):
    current = forms.CharField(label=_("Current password"), strip=False,
                              widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new = forms.CharField(label=_("New password"), strip=False, help_text=password_validators_help_text_html(),
                          widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_again = forms.CharField(label=_("New password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, mailbox: Mailbox, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        self.request = request

    def clean_current(self):
        # SECURITY: throttled and recorded like a login, so a left-open session cannot be used
        # to guess the password (it also unlocks the mailbox over IMAP and SMTP).
        current = self.cleaned_data["current"]

        def matches() -> bool:
            try:
                return verify_password(self.mailbox.password, current, user=self.mailbox.address)
            except UnverifiableHash:
                return False

        try:
            ok = check_password_attempt(self.request, mailbox_credentials(self.mailbox.address), matches)
        except Throttled:
            raise ValidationError(THROTTLED_MESSAGE, code="throttled") from None
        if not ok:
            raise ValidationError(_("Your current password is not this one."), code="wrong_password")
        return current

    def clean(self):
        data = super().clean()
        new, again = data.get("new"), data.get("new_again")
        if not new:
            return data
        if new != again:
            self.add_error("new_again", ValidationError(_("The two new passwords differ."), code="password_mismatch"))
            return data
        lowered = new.lower()
        if self.mailbox.address in lowered or (len(self.mailbox.local_part) >= 4 and self.mailbox.local_part in lowered):
            self.add_error("new", ValidationError(_("The password must not contain your address."),
                                                  code="password_contains_address"))
        if data.get("current") and new == data["current"]:
            self.add_error("new", ValidationError(_("Choose a password different from the current one."),
                                                  code="password_unchanged"))
        try:
            validate_password(new)
        except ValidationError as exc:
            self.add_error("new", exc)
        return data


class MailForwardingForm(forms.Form):
    destinations = forms.CharField(label=_("Forward my mail to"), required=False, max_length=20000,
                                   widget=forms.Textarea(attrs={"rows": 4}),
                                   help_text=_("One address per line; leave empty to stop forwarding."))
    keep_copy = forms.BooleanField(label=_("Keep a copy in my mailbox"), required=False, initial=True)

    def clean_destinations(self):
        return [line.strip() for line in self.cleaned_data["destinations"].splitlines() if line.strip()]
