"""What the quota notifier already told, so each threshold crossing is announced once."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class QuotaNotice(models.Model):
    mailbox = models.ForeignKey("domains.Mailbox", on_delete=models.CASCADE, related_name="quota_notices")
    threshold = models.PositiveSmallIntegerField(_("threshold (%)"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        db_table = "quota_notice"
        constraints = [models.UniqueConstraint(fields=["mailbox", "threshold"], name="quota_notice_once")]

    def __str__(self) -> str:
        return f"{self.mailbox_id} over {self.threshold}%"
