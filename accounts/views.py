"""The admin's own account: login page, and changing one's own password."""
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .mailuser_forms import THROTTLED_MESSAGE
from .services import admin_set_password
from .throttle import Throttled, check_password_attempt


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's form, with the current-password check throttled and recorded like a login."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            ok = check_password_attempt(self.request, {"username": self.user.get_username()},
                                        lambda: self.user.check_password(old_password))
        except Throttled:
            raise ValidationError(THROTTLED_MESSAGE, code="throttled") from None
        if not ok:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


@require_http_methods(["GET", "POST"])
def password_change(request):
    form = ThrottledPasswordChangeForm(request.user, request.POST or None, request=request)
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
    status = 429 if form.has_error("old_password", "throttled") else 200
    return render(request, "accounts/password_change.html", {"form": form}, status=status)
