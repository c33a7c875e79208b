"""DKIM key generation, rotation and retirement; running and storing DNS checks."""
from __future__ import annotations

import base64
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, snapshot
from domains.models import Domain

from . import checks
from .dnsquery import resolver_from_settings
from .models import DkimKey, DnsCheckResult, DnsCheckRun
from .selectors import active_dkim_keys

RSA_BITS = 2048
# The first key of the two-key advisory lock that serializes DNS checks of one domain.
DNS_CHECK_LOCK_SPACE = 0x444E53  # 'DNS'


def _new_key_pair(algorithm: str) -> tuple[str, str]:
    """(private key PEM, public key as the base64 p= value)."""
    if algorithm == DkimKey.Algorithm.ED25519:
        private = ed25519.Ed25519PrivateKey.generate()
        # RFC 8463: p= carries the raw 32-byte Ed25519 key, not a SubjectPublicKeyInfo.
        public_bytes = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                         serialization.PublicFormat.Raw)
    elif algorithm == DkimKey.Algorithm.RSA_2048:
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        public_bytes = private.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    else:
        raise ValidationError({"algorithm": _("Unknown key algorithm.")}, code="algorithm_invalid")
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    return pem, base64.b64encode(public_bytes).decode("ascii")


def _next_selector(domain: Domain) -> str:
    """The selector scheme applied to today, with a suffix when it is already taken."""
    base = timezone.now().strftime(settings.MAILADMIN_DKIM_SELECTOR_FORMAT).lower()
    taken = set(DkimKey.objects.filter(domain=domain, selector__startswith=base).values_list("selector", flat=True))
    if base not in taken:
        return base
    for n in range(2, 1000):
        candidate = f"{base}-{n}"
        if candidate not in taken:
            return candidate
    raise ValidationError(_("No free DKIM selector left for today."), code="selector_exhausted")


@transaction.atomic
def dkim_key_generate(*, domain: Domain, algorithm: str = DkimKey.Algorithm.RSA_2048,
                      acting_user) -> DkimKey:
    """A new key with a new selector. With an active key already, this is a rotation:
    the old key stays active (published, exported) until `dkim_key_retire`."""
    domain = Domain.objects.select_for_update().get(pk=domain.pk)  # one selector per call
    rotating = DkimKey.objects.filter(domain=domain, retired__isnull=True).exists()
    private_pem, public_b64 = _new_key_pair(algorithm)
    key = DkimKey(domain=domain, selector=_next_selector(domain), algorithm=algorithm,
                  private_key=private_pem, public_key=public_b64)
    key.full_clean()
    key.save()
    audit_record(actor=acting_user, action="dkim.rotate" if rotating else "dkim.generate", obj=key,
                 domain_name=domain.name, after=snapshot(key, exclude=("public_key",)))
    return key


@transaction.atomic
def dkim_key_retire(*, key: DkimKey, acting_user) -> DkimKey:
    key = DkimKey.objects.select_for_update().select_related("domain").get(pk=key.pk)
    if key.retired is not None:
        return key
    before = snapshot(key, exclude=("public_key",))
    key.retired = timezone.now()
    key.save(update_fields=["retired"])
    audit_record(actor=acting_user, action="dkim.retire", obj=key, domain_name=key.domain.name,
                 before=before, after=snapshot(key, exclude=("public_key",)))
    return key


class DnsCheckBusy(ValidationError):
    """A check of this domain is running, or ran less than DNSCHECK_MIN_INTERVAL seconds ago."""


def _try_domain_lock(domain: Domain) -> bool:
    """A PostgreSQL session advisory lock per domain, taken without waiting (shared by every
    worker and process); released by _release_domain_lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [DNS_CHECK_LOCK_SPACE, domain.pk])
        return cursor.fetchone()[0]


def _release_domain_lock(domain: Domain) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [DNS_CHECK_LOCK_SPACE, domain.pk])


def dns_check_run(*, domain: Domain, acting_user, resolver=None,
                  identity: checks.ServerIdentity | None = None, min_interval: float | None = None) -> DnsCheckRun:
    """Run every check for `domain` and store the results (the DNS work happens outside
    the transaction, so a slow name server never holds a database lock).

    Rate-limited per domain, in the database so that it holds across workers: while a check
    of the domain runs, another is refused at once (it neither waits nor holds a worker), and
    a new check starts only `min_interval` seconds (default settings.DNSCHECK_MIN_INTERVAL)
    after the last one. Raises DnsCheckBusy (a ValidationError) then, and writes nothing.
    """
    if min_interval is None:
        min_interval = settings.DNSCHECK_MIN_INTERVAL
    if not _try_domain_lock(domain):
        raise DnsCheckBusy(_("A DNS check of %(domain)s is already running.") % {"domain": domain.display_name},
                           code="dns_check_running")
    try:
        last = DnsCheckRun.objects.filter(domain=domain).order_by("-created").values_list("created", flat=True).first()
        if last is not None and min_interval > 0:
            wait = min_interval - (timezone.now() - last).total_seconds()
            if wait > 0:
                raise DnsCheckBusy(_("%(domain)s was checked moments ago; try again in %(seconds)d seconds.")
                                   % {"domain": domain.display_name, "seconds": int(wait) + 1},
                                   code="dns_check_too_soon")
        return _dns_check_run(domain=domain, acting_user=acting_user, resolver=resolver, identity=identity)
    finally:
        _release_domain_lock(domain)


def _dns_check_run(*, domain: Domain, acting_user, resolver, identity) -> DnsCheckRun:
    resolver = resolver or resolver_from_settings()
    identity = identity or checks.ServerIdentity.from_settings()
    started = time.monotonic()
    results = checks.run_checks(resolver, domain.name, identity, active_dkim_keys(domain))
    duration_ms = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        run = DnsCheckRun.objects.create(domain=domain, status=checks.overall_status(results),
                                         duration_ms=duration_ms)
        DnsCheckResult.objects.bulk_create(
            DnsCheckResult(run=run, position=position, check_name=r.check, status=r.status, records=r.records,
                           explanation=r.explanation, recommendation=r.recommendation)
            for position, r in enumerate(results)
        )
        audit_record(actor=acting_user, action="dns.check", obj=run, domain_name=domain.name,
                     object_repr=domain.name, after={"status": run.status,
                                                     **{r.check: r.status for r in results}})
    return run
