"""The mail user's own app passwords and send-as addresses under /me/. Logging in to /me/
takes the mailbox password: an app password opens IMAP, POP3 or SMTP, never this page."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.mailusers import MailUserActor, mailuser_required
from domains.http import attempt, posted

from . import selectors, services
from .forms import AppPasswordForm


@mailuser_required
@never_cache
@require_http_methods(["GET", "POST"])
def app_passwords(request):
    """List, and create: a created password is shown on the answer to the POST, once."""
    mailbox = request.mailbox
    form = AppPasswordForm(posted(request))
    created = None
    if request.method == "POST" and form.is_valid():
        created = attempt(form, lambda: services.app_password_create(
            mailbox=mailbox, name=form.cleaned_data["name"], protocols=form.cleaned_data["protocols"],
            acting_user=MailUserActor(mailbox.address)))
        if created:
            form = AppPasswordForm()
    return render(request, "mailaccess/mailuser_app_passwords.html", {
        "mailbox": mailbox, "form": form, "created": created,
        "app_passwords": list(selectors.app_passwords_of(mailbox))})


@mailuser_required
@require_POST
def app_password_revoke(request, app_password_pk: int):
    mailbox = request.mailbox
    app_password = selectors.get_app_password(mailbox, app_password_pk)
    services.app_password_revoke(app_password=app_password, acting_user=MailUserActor(mailbox.address))
    messages.success(request, _("App password “%(name)s” revoked: it no longer works anywhere.")
                     % {"name": app_password.name})
    return redirect("mailaccess-me:app-passwords")


@mailuser_required
@require_GET
def send_as(request):
    mailbox = request.mailbox
    return render(request, "mailaccess/mailuser_send_as.html", {
        "mailbox": mailbox, "send_as": selectors.send_as_addresses(mailbox)})
