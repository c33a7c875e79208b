"""An admin with two-factor enabled must enter a code after the password before anything
else; with MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS, a superadmin must enrol first."""
from django.conf import settings
from django.shortcuts import redirect

from accounts.models import Admin

from .services import has_two_factor

# Reachable half-way through logging in.
OPEN_PREFIXES = ("/2fa/", "/accounts/logout/", "/static/", "/healthz", "/i18n/", "/me/")


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (isinstance(user, Admin) and user.is_authenticated and not request.path.startswith(OPEN_PREFIXES)
                and not user.is_verified()):
            if has_two_factor(user):
                return redirect(f"/2fa/verify/?next={request.get_full_path()}")
            if user.is_superadmin and settings.MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS:
                return redirect("/2fa/setup/")
        return self.get_response(request)
