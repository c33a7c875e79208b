"""Vacation replies: the mail user's page under /me/, and the admin's switch on the mailbox page."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.mailusers import MailUserActor, mailuser_required
from domains import selectors as domain_selectors

from . import services
from .forms import VacationForm
from .selectors import vacation_for, vacation_state


@mailuser_required
@require_http_methods(["GET", "POST"])
def me_vacation(request):
    mailbox = request.mailbox
    vacation = vacation_for(mailbox)
    initial = ({field: getattr(vacation, field) for field in VacationForm.base_fields} if vacation
               else {"days": 7, "active": True})
    form = VacationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            vacation = services.vacation_set(mailbox=mailbox, acting_user=MailUserActor(mailbox.address),
                                             **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Automatic replies are on.") if vacation.active
                             else _("Automatic replies are off."))
            return redirect("mailuser:home")
    return render(request, "vacation/me_vacation.html",
                  {"form": form, "mailbox": mailbox, "state": vacation_state(vacation)})


@require_POST
def admin_switch_off(request, pk: int):
    """An admin switches a mailbox's vacation reply off (the text stays for the user)."""
    mailbox = domain_selectors.get_mailbox_for_admin(request.user, pk)
    if services.vacation_switch_off(mailbox=mailbox, acting_user=request.user) is not None:
        messages.success(request, _("Automatic replies of %(address)s are off.") % {"address": mailbox.display_address})
    return redirect("domains:mailbox-detail", pk=mailbox.pk)
