"""App passwords and send-as grants: tables Dovecot and Postfix read directly.

`app_password` is read by Dovecot's second SQL passdb, `sender_grant` by Postfix's
`smtpd_sender_login_maps` (the queries are in domains/mailstack.py, documented in
docs/mailstack.md). Table and column names are part of that contract.
"""
from __future__ import annotations

import hashlib

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from domains.addresses import address_display
from domains.text import plain_text_constraint, validate_plain_text

# The SHA-256 of the empty string. A non-plaintext SASL mechanism leaves Dovecot's password
# variable empty; no row may ever match it.
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AppPassword(models.Model):
    """A named, revocable extra password of one mailbox, for one mail program.

    Only the SHA-256 of the secret is stored (hex): the secret is 80 random bits made by the
    panel, so an unsalted hash cannot be reversed by guessing, and it can be the lookup key
    Dovecot's query compares with the hash of the password typed (no plaintext in SQL)."""

    class Protocol(models.TextChoices):
        # Dovecot's service names (%s / %{protocol}); Postfix's SMTP AUTH through Dovecot is "smtp".
        IMAP = "imap", _("IMAP")
        POP3 = "pop3", _("POP3")
        SMTP = "smtp", _("SMTP submission")

    mailbox = models.ForeignKey("domains.Mailbox", on_delete=models.CASCADE, related_name="app_passwords",
                                verbose_name=_("mailbox"))
    name = models.CharField(_("name"), max_length=100, validators=[validate_plain_text],
                            help_text=_("Which program or device uses it, e.g. “phone”."))
    secret_sha256 = models.CharField(_("secret hash"), max_length=64, unique=True, editable=False)
    # Empty: all three (IMAP, POP3, SMTP submission); no other Dovecot service takes an app password.
    protocols = ArrayField(models.CharField(max_length=10, choices=Protocol.choices), default=list, blank=True,
                           verbose_name=_("protocols"))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=200, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        db_table = "app_password"
        ordering = ["-created", "-id"]
        verbose_name = _("app password")
        verbose_name_plural = _("app passwords")
        constraints = [
            models.CheckConstraint(condition=Q(secret_sha256__regex=r"^[0-9a-f]{64}$"),
                                   name="app_password_sha256_hex"),
            models.CheckConstraint(condition=~Q(secret_sha256=EMPTY_SHA256), name="app_password_not_empty"),
            models.CheckConstraint(condition=Q(protocols__contained_by=["imap", "pop3", "smtp"]),
                                   name="app_password_protocols_known"),
            models.CheckConstraint(condition=plain_text_constraint("name"), name="app_password_name_plain_text"),
            models.UniqueConstraint(fields=["mailbox", "name"], condition=Q(revoked__isnull=True),
                                    name="app_password_unique_active_name",
                                    violation_error_message=_("This mailbox already has an app password "
                                                              "with this name.")),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id}: {self.name}"

    @property
    def active(self) -> bool:
        return self.revoked is None

    @property
    def protocol_labels(self) -> list[str]:
        labels = dict(self.Protocol.choices)
        return [str(labels[p]) for p in self.protocols]


class SenderGrant(models.Model):
    """“Mailbox X may send as address Y”, beyond the automatic rules (its own address, the
    aliases that deliver to it, their alias-domain forms): one row of smtpd_sender_login_maps."""

    mailbox = models.ForeignKey("domains.Mailbox", on_delete=models.CASCADE, related_name="sender_grants",
                                verbose_name=_("mailbox"))
    address = models.CharField(_("address"), max_length=320)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=200, blank=True)

    class Meta:
        db_table = "sender_grant"
        ordering = ["address"]
        verbose_name = _("send-as grant")
        verbose_name_plural = _("send-as grants")
        constraints = [
            models.UniqueConstraint(fields=["address", "mailbox"], name="sender_grant_unique",
                                    violation_error_message=_("This mailbox may already send as this address.")),
            models.CheckConstraint(condition=Q(address=Lower("address")), name="sender_grant_address_lower"),
            # A full address: Postfix skips the query for @domain keys (it uses %u).
            models.CheckConstraint(condition=Q(address__regex=r"^[^@\s]+@[^@\s]+$"),
                                   name="sender_grant_full_address"),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id} → {self.address}"

    @property
    def display_address(self) -> str:
        return address_display(self.address)
