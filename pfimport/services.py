"""Applying an import plan through our services, in one transaction, idempotently.

Every row goes through the same service as the panel (domains.services, accounts.services,
quota.services): same validation and limits, one audit row each with the CLI as actor, plus
one `import.postfixadmin` summary row. A row a service refuses is reported as a problem and
the import goes on (its savepoint rolled back); an unexpected error rolls everything back.
Re-running on the same source creates nothing twice: what already exists is counted as present.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services as admin_services
from accounts.models import Admin
from audit.services import audit_record
from domains import services as domain_services
from domains.models import Alias, AliasDomain, Domain, Mailbox
from quota.services import quota_usage_import

from .plan import Plan, Problem


@dataclass
class ImportResult:
    created: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    dry_run: bool = False


def _refused(result: ImportResult, kind: str, key: str, exc: ValidationError) -> None:
    codes = sorted({getattr(e, "code", None) or "invalid" for e in exc.error_list}) if not hasattr(exc, "error_dict") \
        else sorted({e.code or "invalid" for errors in exc.error_dict.values() for e in errors})
    result.problems.append(Problem(kind, key, codes[0] if codes else "invalid", "; ".join(exc.messages)))


def apply_plan(plan: Plan, *, source_label: str, dry_run: bool = False, acting_user=None) -> ImportResult:
    """Create everything in `plan` that does not exist yet; with `dry_run`, do it all and roll
    back, so the report is exactly what the real run would do."""
    result = ImportResult(problems=list(plan.problems), notes=list(plan.notes), dry_run=dry_run)
    with transaction.atomic():
        _apply(plan, result, acting_user)
        audit_record(actor=acting_user, action="import.postfixadmin", object_type="import",
                     object_repr=source_label[:320],
                     after={"created": dict(result.created), "present": dict(result.present),
                            "problems": len(result.problems)})
        if dry_run:
            transaction.set_rollback(True)
    return result


def _attempt(result: ImportResult, kind: str, key: str, call) -> object | None:
    try:
        value = call()
    except ValidationError as exc:
        _refused(result, kind, key, exc)
        return None
    result.created[kind] += 1
    return value


def _apply(plan: Plan, result: ImportResult, actor) -> None:
    existing_domains = {d.name: d for d in Domain.objects.filter(name__in=[p.name for p in plan.domains])}
    domains: dict[str, Domain] = dict(existing_domains)
    for planned in plan.domains:
        if planned.name in existing_domains:
            result.present["domain"] += 1
            continue
        # Limits are set after the rows are in: created with the final limits, a domain whose
        # mailboxes fill its quota exactly would refuse nothing, but order must not matter.
        domain = _attempt(result, "domain", planned.name,
                          lambda: domain_services.domain_create(name=planned.name, acting_user=actor, **planned.fields))
        if domain is not None:
            domains[planned.name] = domain

    existing_alias_domains = set(AliasDomain.objects.filter(name__in=[p.name for p in plan.alias_domains])
                                 .values_list("name", flat=True))
    for planned in plan.alias_domains:
        if planned.name in existing_alias_domains:
            result.present["alias_domain"] += 1
        elif planned.target in domains:
            _attempt(result, "alias_domain", planned.name, lambda: domain_services.alias_domain_create(
                name=planned.name, target=domains[planned.target], active=planned.active, acting_user=actor))

    existing_mailboxes = set(Mailbox.objects.filter(domain__name__in=list(domains)).values_list("address", flat=True))
    mailboxes: dict[str, Mailbox] = {}
    for planned in plan.mailboxes:
        if planned.address in existing_mailboxes:
            result.present["mailbox"] += 1
            continue
        if planned.domain not in domains:
            continue
        mailbox = _attempt(result, "mailbox", planned.address, lambda: domain_services.mailbox_create(
            domain=domains[planned.domain], local_part=planned.local_part, password="",
            password_hash=planned.password_hash, maildir=planned.maildir, name=planned.name,
            quota_bytes=planned.quota_bytes, active=planned.active, acting_user=actor))
        if mailbox is not None:
            mailboxes[planned.address] = mailbox
    # Usage of the mailboxes created now, in one statement (an existing mailbox keeps what
    # Dovecot reports for it here).
    quota_usage_import(usage={address: plan.usage[address] for address in mailboxes if address in plan.usage})

    forwarded = set(Alias.objects.filter(mailbox__isnull=False, address__in=[f.address for f in plan.forwardings])
                    .values_list("address", flat=True))
    for planned in plan.forwardings:
        if planned.address in forwarded:
            result.present["forwarding"] += 1
            continue
        mailbox = mailboxes.get(planned.address)
        if mailbox is None:
            continue  # not imported now (reported with it, or present from an earlier run)
        _attempt(result, "forwarding", planned.address, lambda: domain_services.mailbox_set_forwarding(
            mailbox=mailbox, destinations=planned.destinations, keep_copy=planned.keep_copy, acting_user=actor))

    existing_aliases = set(Alias.objects.filter(domain__name__in=list(domains), mailbox__isnull=True)
                           .values_list("address", flat=True))
    for planned in plan.aliases:
        if planned.address in existing_aliases:
            result.present["alias"] += 1
        elif planned.domain in domains:
            _attempt(result, "alias", planned.address, lambda: domain_services.alias_create(
                domain=domains[planned.domain], local_part=planned.local_part, destinations=planned.destinations,
                active=planned.active, acting_user=actor))

    existing_admins = {u.lower() for u in Admin.objects.values_list("username", flat=True)}
    for planned in plan.admins:
        if planned.username.lower() in existing_admins:
            result.present["admin"] += 1
            continue
        scope = [domains[name] for name in planned.domains if name in domains]
        admin = _attempt(result, "admin", planned.username, lambda: admin_services.admin_create(
            username=planned.username, password=None, email=planned.email, validate=False,
            role=Admin.Role.SUPERADMIN if planned.superadmin else Admin.Role.DOMAIN_ADMIN,
            domains=scope, acting_user=actor))
        if admin is not None and not planned.active:
            try:
                admin_services.admin_update(admin=admin, is_active=False, acting_user=actor)
            except ValidationError as exc:  # e.g. the last active superadmin stays active
                _refused(result, "admin", planned.username, exc)
