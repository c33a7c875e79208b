"""The admin's own account: login page, and changing one's own password."""
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .services import admin_set_password


@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            admin_set_password(admin=request.user, password=form.cleaned_data["new_password1"],
                               acting_user=request.user)
        except ValidationError as exc:
            form.add_error("new_password1", exc.messages)
        else:
            # Keep this session; other sessions of the account are signed out by the new hash.
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password was changed."))
            return redirect("domains:dashboard")
    return render(request, "accounts/password_change.html", {"form": form})
