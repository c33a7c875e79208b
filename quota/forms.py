from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.addresses import normalize_domain
from domains.params import pk_param

from .selectors import SORTS


class UsageFilterForm(forms.Form):
    """The quota page's filters; invalid values fall back to the defaults."""

    q = forms.CharField(label=_("Search address or name"), required=False, max_length=320)
    domain = forms.CharField(label=_("Domain"), required=False, max_length=253)
    filter = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("all", _("All mailboxes")), ("80", _("Over 80 %")), ("90", _("Over 90 %")), ("95", _("Over 95 %")),
        ("100", _("Full (100 % and more)")), ("unlimited", _("Unlimited")), ("never", _("Never received mail")),
    ])
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS], widget=forms.HiddenInput)

    def __init__(self, *args, domains, **kwargs):
        super().__init__(*args, **kwargs)
        self.domains = domains

    def clean_domain(self):
        """A domain id (from the select) or name (typed), looked up within the admin's domains only."""
        value = self.cleaned_data["domain"].strip()
        if not value:
            return None
        if value.isdigit():
            found = self.domains.filter(pk=pk_param(value)).first()
        else:
            try:
                found = self.domains.filter(name=normalize_domain(value)).first()
            except ValidationError:
                found = None
        if found is None:
            raise ValidationError(_("No such domain among yours."), code="unknown_domain")
        return found
