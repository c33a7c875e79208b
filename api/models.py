"""API tokens: named, per admin, stored as a SHA-256 digest of a 256-bit random secret."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token that acts as its admin, with exactly that admin's scope.

    Only `key_hash` identifies the token: the secret is shown once when created and never
    stored. A fast digest is enough (unlike passwords): the secret has 256 random bits, so
    there is nothing to guess offline.
    """

    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                              verbose_name=_("admin"))
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, to recognise it in the list (never enough to use it).
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        db_table = "api_token"
        ordering = ["-created", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.UniqueConstraint(fields=["admin", "name"], name="api_token_unique_name_per_admin",
                                    violation_error_message=_("You already have a token with this name.")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
