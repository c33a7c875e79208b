"""The admin's app-password and send-as pages of one mailbox (the mailbox page shows both:
domains/views.py mailbox_detail through `mailbox_access` below)."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from domains import selectors as domain_selectors
from domains.http import attempt, done, posted

from . import selectors, services
from .forms import AppPasswordForm, SenderGrantForm


def mailbox_access(mailbox) -> dict:
    """Context for the mailbox page's app-password and send-as cards."""
    return {"app_passwords": list(selectors.app_passwords_of(mailbox)),
            "send_as": selectors.send_as_addresses(mailbox),
            "sender_grants": list(selectors.sender_grants_of(mailbox))}


def _detail(mailbox) -> str:
    return reverse("domains:mailbox-detail", args=[mailbox.pk])


@never_cache
@require_http_methods(["GET", "POST"])
def app_password_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Create an app password for the mailbox; the secret is shown once, on this response."""
    mailbox = domain_selectors.get_mailbox_for_admin(request.user, pk)
    form = AppPasswordForm(posted(request))
    if request.method == "POST" and form.is_valid():
        created = attempt(form, lambda: services.app_password_create(
            mailbox=mailbox, name=form.cleaned_data["name"], protocols=form.cleaned_data["protocols"],
            acting_user=request.user))
        if created:
            template = "mailaccess/app_password_shown.html"
            if request.htmx:
                template += "#shown"
            return render(request, template, {"mailbox": mailbox, "created": created,
                                              "done_url": _detail(mailbox)})
    template = "mailaccess/app_password_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "mailbox": mailbox, "cancel_url": _detail(mailbox)})


@require_POST
def app_password_revoke(request: HttpRequest, pk: int, app_password_pk: int) -> HttpResponse:
    mailbox = domain_selectors.get_mailbox_for_admin(request.user, pk)
    app_password = selectors.get_app_password(mailbox, app_password_pk)
    services.app_password_revoke(app_password=app_password, acting_user=request.user)
    messages.success(request, _("App password “%(name)s” revoked.") % {"name": app_password.name})
    return done(request, _detail(mailbox))


@require_http_methods(["GET", "POST"])
def sender_grant_create(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = domain_selectors.get_mailbox_for_admin(request.user, pk)
    form = SenderGrantForm(posted(request))
    if request.method == "POST" and form.is_valid():
        grant = attempt(form, lambda: services.sender_grant_create(
            mailbox=mailbox, address=form.cleaned_data["address"], acting_user=request.user))
        if grant:
            messages.success(request, _("%(mailbox)s may now send as %(address)s.") % {
                "mailbox": mailbox.display_address, "address": grant.display_address})
            return done(request, _detail(mailbox))
    template = "mailaccess/sender_grant_form.html"
    if request.htmx:
        template += "#form"
    return render(request, template, {"form": form, "mailbox": mailbox, "cancel_url": _detail(mailbox)})


@require_POST
def sender_grant_delete(request: HttpRequest, pk: int, grant_pk: int) -> HttpResponse:
    mailbox = domain_selectors.get_mailbox_for_admin(request.user, pk)
    grant = selectors.get_sender_grant(mailbox, grant_pk)
    services.sender_grant_delete(grant=grant, acting_user=request.user)
    messages.success(request, _("%(mailbox)s may no longer send as %(address)s.") % {
        "mailbox": mailbox.display_address, "address": grant.display_address})
    return done(request, _detail(mailbox))
