"""The API tokens page: an admin creates (secret shown once), lists and revokes their own tokens."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import TokenCreateForm


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.token_create(admin=request.user, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            form = TokenCreateForm()
            messages.success(request, _("Token %(name)s created.") % {"name": token.name})
    # The secret is rendered in this one response and never stored: the page says so.
    response = render(request, "api/token_list.html", {
        "form": form, "secret": secret, "tokens": selectors.tokens_for(request.user)})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.get_token_for_admin(request.user, pk)
    services.token_revoke(token=token, acting_user=request.user)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("api-tokens:list")
