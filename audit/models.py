"""Who changed what, when: one row per change, written in the same transaction as the change."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    created = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("who"))
    # Kept as text so the entry still says who after the admin is deleted, and for
    # actors that are not admins (the CLI, a mail user changing their own password).
    actor_label = models.CharField(_("who"), max_length=320)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    # The domain the change belongs to, as a name, so domain admins can read their own
    # history even after objects (or the domain itself) are deleted.
    domain_name = models.CharField(_("domain"), max_length=253, blank=True, db_index=True)
    # The domain's identity (its primary key, never reused), which scopes what a domain admin
    # sees: a domain deleted and created again under the same name is another tenant, who must
    # not read the previous one's history. Not a foreign key: entries outlive their domain.
    domain_id = models.BigIntegerField(_("domain id"), null=True, blank=True)
    object_type = models.CharField(_("object type"), max_length=32)
    object_repr = models.CharField(_("object"), max_length=320)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        db_table = "audit_entry"
        ordering = ["-created", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["domain_name", "-created"], name="audit_domain_created"),
            models.Index(fields=["domain_id", "-created"], name="audit_domain_id_created"),
            # The audit page filters by who acted, newest first.
            models.Index(fields=["actor_label", "-created"], name="audit_actor_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
