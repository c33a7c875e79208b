"""The mail user's own pages under /me/: log in with the mailbox password, see the quota,
change the password, set forwarding. Never an admin view: admin pages need an admin login."""
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from domains import services
from vacation.selectors import vacation_for, vacation_state

from .mailuser_forms import MailForwardingForm, MailLoginForm, MailPasswordForm
from .mailusers import (LoginThrottled, MailUserActor, authenticate_mailbox, current_mailbox, fingerprint, log_in,
                        log_out, mailuser_required, SESSION_FINGERPRINT)


@login_not_required
@require_http_methods(["GET", "POST"])
def login(request):
    if current_mailbox(request) is not None:
        return redirect("mailuser:home")
    form = MailLoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = authenticate_mailbox(request, form.cleaned_data["address"], form.cleaned_data["password"])
        except LoginThrottled:
            form.add_error(None, _("Too many failed logins for this address or from your network. "
                                   "Wait a few minutes before trying again."))
            status = 429
        else:
            if mailbox is None:
                form.add_error(None, _("Wrong address or password, or this mailbox is disabled."))
            else:
                log_in(request, mailbox)
                next_url = request.GET.get("next", "")
                if not (next_url.startswith("/me/") and url_has_allowed_host_and_scheme(
                        next_url, allowed_hosts={request.get_host()})):
                    next_url = "/me/"
                return redirect(next_url)
    return render(request, "accounts/mailuser/login.html", {"form": form}, status=status)


@login_not_required
@require_POST
def logout(request):
    log_out(request)
    return redirect("mailuser:login")


@mailuser_required
@require_http_methods(["GET"])
def home(request):
    mailbox = request.mailbox
    usage = getattr(mailbox, "usage", None)
    forwarding = getattr(mailbox, "forwarding", None)
    destinations = forwarding.display_destinations if forwarding else []
    # The mailbox's own address among the destinations means "keep a copy", not a forward.
    own = mailbox.display_address
    return render(request, "accounts/mailuser/home.html", {
        "mailbox": mailbox, "usage": usage, "forwarding": forwarding,
        "forward_to": [d for d in destinations if d != own], "keeps_copy": own in destinations,
        "vacation_state": vacation_state(vacation_for(mailbox))})


@mailuser_required
@require_http_methods(["GET", "POST"])
def password(request):
    mailbox = request.mailbox
    form = MailPasswordForm(request.POST or None, mailbox=mailbox, request=request)
    if request.method == "POST" and form.is_valid():
        mailbox = services.mailbox_set_password(mailbox=mailbox, password=form.cleaned_data["new"],
                                                acting_user=MailUserActor(mailbox.address))
        # This session stays valid; any other session of the mailbox ends with the old hash.
        request.session[SESSION_FINGERPRINT] = fingerprint(mailbox)
        messages.success(request, _("Your password was changed. Use the new one in your mail program too."))
        return redirect("mailuser:home")
    status = 429 if form.has_error("current", "throttled") else 200
    return render(request, "accounts/mailuser/password.html", {"form": form, "mailbox": mailbox}, status=status)


@mailuser_required
@require_http_methods(["GET", "POST"])
def forwarding(request):
    mailbox = request.mailbox
    current = getattr(mailbox, "forwarding", None)
    initial = {"destinations": "\n".join(d for d in (current.destinations if current else []) if d != mailbox.address),
               "keep_copy": (mailbox.address in current.destinations) if current else True}
    form = MailForwardingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.mailbox_set_forwarding(mailbox=mailbox, destinations=form.cleaned_data["destinations"],
                                            keep_copy=form.cleaned_data["keep_copy"],
                                            acting_user=MailUserActor(mailbox.address))
        except ValidationError as exc:
            form.add_error("destinations", exc.messages)
        else:
            messages.success(request, _("Forwarding saved."))
            return redirect("mailuser:home")
    return render(request, "accounts/mailuser/forwarding.html", {"form": form, "mailbox": mailbox})
