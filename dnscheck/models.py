"""DKIM keys held by the panel, and the stored outcome of DNS check runs."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from domains.models import Domain

from .advice import render as render_advice
from .checks import CHECK_TITLES, STATUS_CHOICES

SELECTOR_SQL_RE = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class DkimKey(models.Model):
    """A DKIM key pair of a domain, published at `<selector>._domainkey.<domain>`.

    Rotation creates a new key with a new selector; the old one stays published (and
    exported) until an admin retires it, so mail signed with it still verifies in transit.
    """

    class Algorithm(models.TextChoices):
        RSA_2048 = "rsa-2048", _("RSA 2048 bits")
        ED25519 = "ed25519", _("Ed25519")

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="dkim_keys",
                               verbose_name=_("domain"))
    selector = models.CharField(_("selector"), max_length=63)
    algorithm = models.CharField(_("algorithm"), max_length=16, choices=Algorithm.choices,
                                 default=Algorithm.RSA_2048)
    # SECURITY: never rendered, never audited (audit.services.SECRET_FIELDS), exported
    # only by `manage.py dkim export` into files of mode 0600.
    private_key = models.TextField(_("private key (PEM)"))
    public_key = models.TextField(_("public key (base64, as in the p= tag)"))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    retired = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        db_table = "dkim_key"
        ordering = ["domain", "-created", "-id"]
        verbose_name = _("DKIM key")
        verbose_name_plural = _("DKIM keys")
        constraints = [
            models.UniqueConstraint(fields=["domain", "selector"], name="dkim_key_unique_selector"),
            models.CheckConstraint(condition=Q(selector__regex=SELECTOR_SQL_RE), name="dkim_key_selector_valid"),
            models.CheckConstraint(condition=Q(algorithm__in=["rsa-2048", "ed25519"]),
                                   name="dkim_key_algorithm_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.selector}._domainkey.{self.domain.name}"

    @property
    def active(self) -> bool:
        return self.retired is None

    @property
    def key_type(self) -> str:
        """The k= tag value."""
        return "ed25519" if self.algorithm == self.Algorithm.ED25519 else "rsa"

    @property
    def txt_value(self) -> str:
        return f"v=DKIM1; k={self.key_type}; p={self.public_key}"


class DnsCheckRun(models.Model):
    """One run of every check for a domain; the latest one is the domain's DNS status."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="dns_check_runs",
                               verbose_name=_("domain"))
    created = models.DateTimeField(_("checked at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=8, choices=STATUS_CHOICES)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        db_table = "dns_check_run"
        ordering = ["-created", "-id"]
        verbose_name = _("DNS check run")
        verbose_name_plural = _("DNS check runs")
        indexes = [models.Index(fields=["domain", "-created"], name="dns_check_run_latest")]

    def __str__(self) -> str:
        return f"{self.domain.name} {self.created:%Y-%m-%d %H:%M} {self.status}"


class DnsCheckResult(models.Model):
    run = models.ForeignKey(DnsCheckRun, on_delete=models.CASCADE, related_name="results",
                            verbose_name=_("run"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    check_name = models.CharField(_("check"), max_length=16, choices=list(CHECK_TITLES.items()))
    status = models.CharField(_("status"), max_length=8, choices=STATUS_CHOICES)
    records = models.JSONField(_("records found"), default=list, blank=True)
    # What is wrong and what to do, as message ids and parameters (dnscheck/advice.py):
    # translated for whoever reads it, not fixed in the language of whoever ran the check.
    advice = models.JSONField(_("advice"), default=list, blank=True)
    recommendation = models.BooleanField(_("recommendation only"), default=False)

    class Meta:
        db_table = "dns_check_result"
        ordering = ["run", "position"]
        verbose_name = _("DNS check result")
        verbose_name_plural = _("DNS check results")
        constraints = [
            models.UniqueConstraint(fields=["run", "check_name"], name="dns_check_result_unique_check"),
        ]

    def __str__(self) -> str:
        return f"{self.check_name}: {self.status}"

    @property
    def explanation(self) -> str:
        """The advice in the active language."""
        return render_advice(self.advice)
