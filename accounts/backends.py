"""Admin login by username or e-mail address."""
from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

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
