"""An admin with two-factor enabled must enter a code after the password before anything
else; with MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS, a superadmin must enrol first.

Deny by default: a session that is only half logged in (password given, code not yet)
reaches the code page, logout, and the pages anyone may see without logging in (the login
pages, the language switch, static files, /me/, which asks for its own mailbox login). Every
other view, under /2fa/ or not, htmx or not, answers with a redirect to the code page.
"""
from django.conf import settings
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from accounts.models import Admin

from .services import has_two_factor

# Views a half-logged-in admin who has a device may use (url names).
HALF_LOGGED_IN_VIEWS = {"twofactor:verify", "accounts:logout"}
# Views an admin who must enrol (a superadmin under MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS) may use.
ENROLMENT_VIEWS = {"twofactor:status", "twofactor:setup", "twofactor:verify", "accounts:logout"}


def _allowed(request, names: set[str]) -> bool:
    """Whether the requested view is one of `names`, or a public view (login_not_required)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    if match.view_name in names:
        return True
    # Views that anonymous visitors may use (LoginRequiredMiddleware's own marker).
    return getattr(match.func, "login_required", True) is False


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if isinstance(user, Admin) and user.is_authenticated and not user.is_verified():
            # Read with the admin by the session's backend (accounts/backends.py), else asked now.
            enrolled = getattr(user, "has_confirmed_totp", None)
            if enrolled if enrolled is not None else has_two_factor(user):
                if not _allowed(request, HALF_LOGGED_IN_VIEWS):
                    return redirect(f"/2fa/verify/?next={request.get_full_path()}")
            elif (user.is_superadmin and settings.MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS
                  and not _allowed(request, ENROLMENT_VIEWS)):
                return redirect("/2fa/setup/")
        return self.get_response(request)
