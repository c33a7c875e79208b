"""Panel administrators and their roles."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.utils.crypto import salted_hmac
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from domains.text import plain_text_constraint


class Admin(AbstractUser):
    """A person who administers the panel: a superadmin, or a domain admin of some domains."""

    class Role(models.TextChoices):
        SUPERADMIN = "superadmin", _("Superadmin")
        DOMAIN_ADMIN = "domain_admin", _("Domain admin")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.DOMAIN_ADMIN)
    domains = models.ManyToManyField("domains.Domain", blank=True, related_name="admins",
                                     verbose_name=_("managed domains"), db_table="admin_domain")
    # Part of the session hash: raising it ends every session of the account at its next
    # request (accounts/sessions.py), as a password change does.
    session_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        db_table = "admin"
        ordering = ["username"]
        verbose_name = _("administrator")
        verbose_name_plural = _("administrators")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=["superadmin", "domain_admin"]),
                                   name="admin_role_valid"),
            *[models.CheckConstraint(condition=plain_text_constraint(field), name=f"admin_{field}_plain_text")
              for field in ("username", "first_name", "last_name", "email")],
            # Admins log in with their username or e-mail address, case-insensitively:
            # either must name exactly one account.
            models.UniqueConstraint(Lower("username"), name="admin_username_unique_ci",
                                    violation_error_message=_("An admin with this username already exists.")),
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="admin_email_unique_ci",
                                    violation_error_message=_("An admin with this e-mail address already exists.")),
        ]

    def _get_session_auth_hash(self, secret=None):
        # Django checks this HMAC on every request (django.contrib.auth.get_user); over the
        # password alone, as Django does, plus the session version, so that deactivating or
        # demoting an admin ends their sessions and reactivating does not bring them back.
        return salted_hmac("mailadmin.accounts.Admin.session_auth_hash",
                           f"{self.password}\x00{self.session_version}", secret=secret,
                           algorithm="sha256").hexdigest()

    @property
    def is_superadmin(self) -> bool:
        return self.role == self.Role.SUPERADMIN

    def can_manage_domain(self, domain_id: int) -> bool:
        if self.is_superadmin:
            return True
        return self.domains.filter(pk=domain_id).exists()


class MailboxSessionVersion(models.Model):
    """Part of a mail user's /me/ session fingerprint (accounts/mailusers.py): raised when the
    mailbox or its domain is deactivated or reactivated, so those sessions end at once and do
    not come back. No row means version 0."""

    mailbox = models.OneToOneField("domains.Mailbox", primary_key=True, on_delete=models.CASCADE,
                                   related_name="+")
    version = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "mailbox_session_version"
