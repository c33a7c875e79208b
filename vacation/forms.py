from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.text import FORBIDDEN_RE

from .models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH
from .sieve import MAX_DAYS, MIN_DAYS


def _validate_body(value: str) -> None:
    # Line breaks and tabs are text here; every other control character is refused.
    found = FORBIDDEN_RE.search(value.replace("\r", "").replace("\n", "").replace("\t", ""))
    if found:
        raise ValidationError(_("Control characters and text-direction overrides are not allowed (found U+%(code)s)."),
                              code="control_character", params={"code": f"{ord(found.group()):04X}"})


class VacationForm(forms.Form):
    active = forms.BooleanField(label=_("Send automatic replies"), required=False)
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH,
                              error_messages={"required": _("Give the replies a subject.")})
    body = forms.CharField(label=_("Message"), max_length=BODY_MAX_LENGTH, strip=False,
                           widget=forms.Textarea(attrs={"rows": 8}), validators=[_validate_body],
                           error_messages={"required": _("Write the reply's text.")})
    first_day = forms.DateField(label=_("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("Empty: from now on."))
    last_day = forms.DateField(label=_("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("Empty: until you switch it off. Dates are the mail server's."))
    days = forms.IntegerField(label=_("Reply to the same sender at most once every (days)"), initial=7,
                              min_value=MIN_DAYS, max_value=MAX_DAYS)

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        found = FORBIDDEN_RE.search(subject)
        if found:
            raise ValidationError(_("The subject is one line of text, without control characters."),
                                  code="control_character")
        return subject

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise ValidationError(_("Write the reply's text."), code="required")
        return body

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", ValidationError(_("The last day cannot come before the first."),
                                                       code="last_before_first"))
        return data
