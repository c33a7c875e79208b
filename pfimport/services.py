"""Applying an import plan through our services, in one transaction, idempotently.

Every row goes through the same rules as the panel (domains.services, accounts.services,
quota.services): same validation and limits, one audit row each with the CLI as actor, plus
one `import.postfixadmin` summary row. Mailboxes and aliases, the thousands, go through the
batch form (domains.services.addresses_create); the rest one by one. A row a service refuses
is reported as a problem and the import goes on; an unexpected error rolls everything back.
Re-running on the same source creates nothing twice: what already exists is counted as
present, and a mailbox or alias that changed in the source since (name, quota, active,
password hash; destinations, active) is updated through its service and reported.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services as admin_services
from accounts.models import Admin
from audit.models import AuditEntry
from audit.services import audit_record
from domains import services as domain_services
from domains.models import Alias, AliasDomain, Domain, Mailbox
from quota.services import quota_usage_import

from .plan import Plan, Problem


@dataclass
class Change:
    """One existing row updated from the source: what changed, as `field: old -> new` texts."""

    kind: str
    key: str
    changes: list[str]


@dataclass
class ImportResult:
    created: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)
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
                            "updated": dict(result.updated), "problems": len(result.problems)})
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

    existing_mailboxes = {m.address: m for m in Mailbox.objects.filter(domain__name__in=list(domains))
                          .select_related("domain")}
    todo = [p for p in plan.mailboxes if p.address not in existing_mailboxes and p.domain in domains]
    for planned in plan.mailboxes:
        if planned.address in existing_mailboxes:
            result.present["mailbox"] += 1
            _update_mailbox(result, existing_mailboxes[planned.address], planned, actor)
    mailboxes: dict[str, Mailbox] = {}
    for planned, created in _create(result, "mailbox", todo, [domain_services.NewMailbox(
            domain=domains[p.domain], local_part=p.local_part, password_hash=p.password_hash, maildir=p.maildir,
            name=p.name, quota_bytes=p.quota_bytes, active=p.active) for p in todo], actor):
        mailboxes[planned.address] = created
    # Usage of the mailboxes created now, in one statement (an existing mailbox keeps what
    # Dovecot reports for it here).
    quota_usage_import(usage={address: plan.usage[address] for address in mailboxes if address in plan.usage})

    forwarded = {a.address: a for a in Alias.objects.filter(mailbox__isnull=False,
                                                             address__in=[f.address for f in plan.forwardings])}
    for planned in plan.forwardings:
        if planned.address in forwarded:
            result.present["forwarding"] += 1
            _update_forwarding(result, forwarded[planned.address], planned, actor)
            continue
        mailbox = mailboxes.get(planned.address) or existing_mailboxes.get(planned.address)
        if mailbox is None:
            continue  # not imported (reported with its mailbox)
        _attempt(result, "forwarding", planned.address, lambda: domain_services.mailbox_set_forwarding(
            mailbox=mailbox, destinations=planned.destinations, keep_copy=planned.keep_copy, acting_user=actor))

    existing_aliases = {a.address: a for a in Alias.objects.filter(domain__name__in=list(domains), mailbox__isnull=True)}
    todo = [p for p in plan.aliases if p.address not in existing_aliases and p.domain in domains]
    for planned in plan.aliases:
        if planned.address in existing_aliases:
            result.present["alias"] += 1
            _update_alias(result, existing_aliases[planned.address], planned, actor)
    _create(result, "alias", todo, [domain_services.NewAlias(
        domain=domains[p.domain], local_part=p.local_part, destinations=p.destinations, active=p.active)
        for p in todo], actor)

    existing_admins = {u.lower() for u in Admin.objects.values_list("username", flat=True)}
    # The active first: deactivating one never meets the last-active-superadmin rule needlessly.
    for planned in sorted(plan.admins, key=lambda admin: not admin.active):
        if planned.username.lower() in existing_admins:
            result.present["admin"] += 1
            continue
        scope = [domains[name] for name in planned.domains if name in domains]
        admin = _attempt(result, "admin", planned.username, lambda: admin_services.admin_create(
            username=planned.username, password=None, password_hash=planned.password_hash, email=planned.email,
            validate=False, role=Admin.Role.SUPERADMIN if planned.superadmin else Admin.Role.DOMAIN_ADMIN,
            domains=scope, acting_user=actor))
        if admin is not None and not planned.active:
            try:
                admin_services.admin_update(admin=admin, is_active=False, acting_user=actor)
            except ValidationError as exc:  # e.g. the last active superadmin stays active
                _refused(result, "admin", planned.username, exc)


def _create(result: ImportResult, kind: str, planned: list, items: list, actor) -> list[tuple[object, object]]:
    """Create `items` (planned rows as addresses_create items) in one batch; refusals become
    problems. Returns (planned, created object) for what was created."""
    created = []
    for row, outcome in zip(planned, domain_services.addresses_create(items=items, acting_user=actor) if items else []):
        if isinstance(outcome, ValidationError):
            _refused(result, kind, row.address, outcome)
        else:
            result.created[kind] += 1
            created.append((row, outcome))
    return created


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _update(result: ImportResult, kind: str, key: str, changes: list[str], call) -> None:
    """Apply one row's changes through its service, or report why it refused."""
    if not changes:
        return
    try:
        with transaction.atomic():  # a row's changes land together or not at all
            call()
    except ValidationError as exc:
        _refused(result, kind, key, exc)
        return
    result.updated[kind] += 1
    result.changes.append(Change(kind, key, changes))


def _update_mailbox(result: ImportResult, mailbox: Mailbox, planned, actor) -> None:
    """Bring an imported mailbox up to date with its source row (a re-run after users changed
    things in Postfixadmin): name, quota, active through mailbox_update, the hash through
    mailbox_set_password. The maildir never changes here: that would move no mail."""
    fields: dict = {}
    changes: list[str] = []
    if mailbox.name != planned.name.strip():
        fields["name"] = planned.name
        changes.append(f"name {mailbox.name!r} -> {planned.name.strip()!r}")
    if mailbox.quota_bytes != planned.quota_bytes:
        fields["quota_bytes"] = planned.quota_bytes
        changes.append(f"quota {mailbox.quota_bytes} -> {planned.quota_bytes} bytes")
    if mailbox.active != planned.active:
        fields["active"] = planned.active
        changes.append(f"active {_yes_no(mailbox.active)} -> {_yes_no(planned.active)}")
    new_hash = mailbox.password != planned.password_hash
    if new_hash and _password_set_here(mailbox):
        # The user (or an admin) set it in this panel since: theirs wins over the old system's.
        result.notes.append(Problem("mailbox", planned.address, "password_kept",
                                    "the password changed in Postfixadmin and here: kept the one set here"))
        new_hash = False
    if new_hash:
        changes.append("password hash replaced")  # never the hash itself: the report is read by people

    def apply() -> None:
        if fields:
            domain_services.mailbox_update(mailbox=mailbox, acting_user=actor, **fields)
        if new_hash:
            domain_services.mailbox_set_password(mailbox=mailbox, password_hash=planned.password_hash,
                                                 acting_user=actor)
    _update(result, "mailbox", planned.address, changes, apply)


def _password_set_here(mailbox: Mailbox) -> bool:
    """Whether this panel set the mailbox's password after the import: an admin or the user
    (password_changed), or the re-hash at the user's first login (accounts/mailusers.py)."""
    return mailbox.password_changed is not None or AuditEntry.objects.filter(
        action__in=["mailbox.password", "mailbox.rehash"], object_type="mailbox",
        object_repr=str(mailbox)[:320], created__gte=mailbox.created).exists()


def _update_alias(result: ImportResult, alias: Alias, planned, actor) -> None:
    changes = []
    if list(alias.destinations) != planned.destinations:
        changes.append(f"destinations {', '.join(alias.destinations)} -> {', '.join(planned.destinations)}")
    if alias.active != planned.active:
        changes.append(f"active {_yes_no(alias.active)} -> {_yes_no(planned.active)}")
    _update(result, "alias", planned.address, changes, lambda: domain_services.alias_update(
        alias=alias, destinations=planned.destinations, active=planned.active, acting_user=actor))


def _update_forwarding(result: ImportResult, forwarding: Alias, planned, actor) -> None:
    wanted = ([planned.address] if planned.keep_copy else []) + [d for d in planned.destinations if d != planned.address]
    if list(forwarding.destinations) == wanted:
        return
    changes = [f"destinations {', '.join(forwarding.destinations)} -> {', '.join(wanted)}"]
    _update(result, "forwarding", planned.address, changes, lambda: domain_services.mailbox_set_forwarding(
        mailbox=forwarding.mailbox, destinations=planned.destinations, keep_copy=planned.keep_copy,
        acting_user=actor))
