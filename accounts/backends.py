"""Admin login by username or e-mail address."""
from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Admin


class AdminBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        login = username.strip()
        # A username match wins over an e-mail match (both are unique, case-insensitively).
        admin = None
        if login:
            admin = (Admin.objects.filter(username__iexact=login).first()
                     or Admin.objects.filter(email__iexact=login).first())
        if admin is None:
            # Same cost as a real check, so timing does not reveal which accounts exist.
            Admin().set_password(password)
            return None
        if admin.check_password(password) and self.user_can_authenticate(admin):
            return admin
        return None

    def get_user(self, user_id):
        """The admin of a session (Django calls this on every logged-in WSGI request), or None.

        It carries `has_confirmed_totp`, read in the same query: the two-factor middleware
        needs it on every request too (twofactor/middleware.py), and asking separately cost a
        second round trip to PostgreSQL per page. The flag is as of the start of the request;
        writes that depend on it ask the database again (twofactor/services.has_two_factor)."""
        admin = (Admin._default_manager
                 .annotate(has_confirmed_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
                 .filter(pk=user_id).first())
        return admin if admin is not None and self.user_can_authenticate(admin) else None

    async def aget_user(self, user_id):
        """get_user for request.auser(), with the same flag (ModelBackend's own would drop it;
        the middleware would then fall back to asking the database)."""
        return await sync_to_async(self.get_user)(user_id)
