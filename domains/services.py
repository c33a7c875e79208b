"""Every write to the mail schema. The web views, the CLI and the tests all call these.

Each service is atomic and writes its audit entry in the same transaction. Rules that
depend on other rows (domain limits, an address being free across mailboxes and aliases)
are checked while holding a row lock on the domain, so concurrent requests are serialized
per domain and limits hold. `acting_user` is the Admin who acts, None for the CLI, or any
object with an `audit_label` (a mail user acting on their own mailbox).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.sessions import end_mailbox_sessions
from audit.models import AuditEntry
from audit.services import audit_entry, audit_record, snapshot

from .addresses import (address_display, domain_label, normalize_address, normalize_domain, normalize_local_part,
                        split_address)
from .doveadm import flush_auth_cache
from .models import Alias, AliasDomain, DeletedMaildir, Domain, LastLogin, Mailbox, QuotaUsage
from .name_claims import check_lookalike, decides_routing, require_routing_authority
from .passwords import hash_password
from . import routing
from .references import (alias_domain_references, alias_references, aliases_naming_extensions,
                         apply_reference_plan, domain_addresses, domain_references, extension_forms,
                         mailbox_references)
from .routing_db import addresses_naming_domains, routing_problems
# mailaccess: send-as grants follow the addresses they name (deletes and renames).
from mailaccess.services import sender_grants_follow_rename, sender_grants_withdraw_for
from vacation.services import vacation_follow_rename
from .units import format_size

DOMAIN_EDITABLE_FIELDS = {
    "description", "active", "backup_mx", "transport", "max_mailboxes", "max_aliases",
    "max_quota_bytes", "quota_bytes", "default_quota_bytes", "allow_external_forwarding",
}
# What a domain admin may change on their own domains; limits and routing stay with superadmins.
DOMAIN_ADMIN_EDITABLE_FIELDS = {"description", "default_quota_bytes", "allow_external_forwarding"}
MAILBOX_EDITABLE_FIELDS = {"name", "quota_bytes", "active"}
MAX_DESTINATIONS = 500
VIRTUAL_ALIAS_EXPANSION_LIMIT = routing.VIRTUAL_ALIAS_EXPANSION_LIMIT


# --- helpers -------------------------------------------------------------------------

def _field_error(field: str, message: str, code: str) -> ValidationError:
    """An error attached to a form field, with a code tests and callers can rely on."""
    return ValidationError({field: ValidationError(message, code=code)})


def _lock_domain(domain: Domain) -> Domain:
    """Re-read the domain under a row lock: the limit checks below are then race-free."""
    try:
        return Domain.objects.select_for_update().get(pk=domain.pk)
    except Domain.DoesNotExist:
        raise ValidationError(_("This domain no longer exists."), code="domain_gone") from None


def _lock_name(name: str) -> None:
    """Serialize creations of a domain or alias domain of the same name (two tables, one namespace)."""
    key = int.from_bytes(hashlib.blake2b(f"domain-name:{name}".encode(), digest_size=8).digest(),
                         "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _full_clean(obj, exclude: Iterable[str] = (), *, validate_unique: bool = True) -> None:
    # validate_constraints=False: the unique checks run, and the database constraints
    # back them; Django cannot evaluate the regex and array-length checks in Python.
    # validate_unique=False where Holdings already answered them (one query per batch, not
    # three per row).
    obj.full_clean(exclude=list(exclude), validate_unique=validate_unique, validate_constraints=False)


def _validate_domain_settings(domain: Domain) -> None:
    errors: dict[str, list[str]] = {}
    if domain.transport and any(c in domain.transport for c in "\n\r\t "):
        errors.setdefault("transport", []).append(_("A transport has no spaces, e.g. lmtp:unix:private/dovecot-lmtp."))
    if domain.max_quota_bytes and domain.default_quota_bytes > domain.max_quota_bytes:
        errors.setdefault("default_quota_bytes", []).append(
            _("The default mailbox quota cannot exceed the maximum quota per mailbox (%(max)s).")
            % {"max": format_size(domain.max_quota_bytes)})
    if domain.max_quota_bytes and not domain.default_quota_bytes:
        errors.setdefault("default_quota_bytes", []).append(
            _("Mailboxes of this domain cannot be unlimited (the maximum quota is %(max)s): "
              "set a default quota.") % {"max": format_size(domain.max_quota_bytes)})
    if domain.quota_bytes:
        if domain.max_quota_bytes > domain.quota_bytes:
            errors.setdefault("max_quota_bytes", []).append(
                _("The maximum quota per mailbox cannot exceed the domain's total quota (%(total)s).")
                % {"total": format_size(domain.quota_bytes)})
        if domain.default_quota_bytes > domain.quota_bytes:
            errors.setdefault("default_quota_bytes", []).append(
                _("The default mailbox quota cannot exceed the domain's total quota (%(total)s).")
                % {"total": format_size(domain.quota_bytes)})
        if not domain.default_quota_bytes:
            errors.setdefault("default_quota_bytes", []).append(
                _("The domain has a total quota, so its mailboxes cannot be unlimited: set a default quota."))
    if errors:
        raise ValidationError(errors)


def _check_mailbox_quota(domain: Domain, quota: int, *, exclude_pk: int | None = None,
                         allocated: int | None = None) -> None:
    """The quota of one mailbox within the domain's per-mailbox maximum and total quota.
    `allocated` (bytes): what the domain's other mailboxes hold, when the caller knows it."""
    if quota < 0:
        raise _field_error("quota_bytes", _("A quota cannot be negative."), "quota_negative")
    if domain.max_quota_bytes:
        if quota == 0:
            raise _field_error("quota_bytes", _(
                "Unlimited quota is not allowed in %(domain)s: the maximum is %(max)s per mailbox."
            ) % {"domain": domain_label(domain.name), "max": format_size(domain.max_quota_bytes)}, "quota_unlimited_not_allowed")
        if quota > domain.max_quota_bytes:
            raise _field_error("quota_bytes", _(
                "The quota %(quota)s is above the maximum of %(max)s per mailbox in %(domain)s."
            ) % {"quota": format_size(quota), "max": format_size(domain.max_quota_bytes),
                 "domain": domain_label(domain.name)}, "quota_above_max")
    if domain.quota_bytes:
        if quota == 0:
            raise _field_error("quota_bytes", _(
                "Unlimited quota is not allowed in %(domain)s: the domain has a total quota of %(total)s."
            ) % {"domain": domain_label(domain.name), "total": format_size(domain.quota_bytes)}, "quota_unlimited_not_allowed")
        others = allocated if allocated is not None else (
            domain.mailboxes.exclude(pk=exclude_pk).aggregate(total=Sum("quota_bytes"))["total"] or 0)
        if others + quota > domain.quota_bytes:
            raise _field_error("quota_bytes", _(
                "Domain quota exceeded: %(domain)s has %(free)s left of its %(total)s, "
                "this mailbox asks for %(quota)s."
            ) % {"domain": domain_label(domain.name), "free": format_size(max(domain.quota_bytes - others, 0)),
                 "total": format_size(domain.quota_bytes), "quota": format_size(quota)}, "domain_quota_exceeded")


def _routing_error(problem) -> ValidationError:
    """The message for one routing Problem (domains/routing.py), for a single write or a batch."""
    if problem.code == "loop":
        return ValidationError(
            _("This would make a loop: %(cycle)s. Postfix would refuse every message to %(address)s.")
            % {"cycle": " → ".join(problem.detail), "address": problem.address}, code="routing_loop")
    if problem.code == "expansion_limit":
        return ValidationError(
            _("%(address)s would expand to more than %(limit)d addresses, more than Postfix accepts.")
            % {"address": problem.address, "limit": VIRTUAL_ALIAS_EXPANSION_LIMIT},
            code="routing_expansion_limit")
    return ValidationError(
        _("Mail to %(address)s would end at %(unresolved)s, an alias-domain address that names "
          "no mailbox or alias, and bounce.")
        % {"address": problem.address, "unresolved": ", ".join(problem.detail)},
        code="routing_alias_domain_unresolved")


def _check_routing(addresses: Iterable[str], *, field: str | None = None, upstream: bool = True) -> None:
    """Refuse a state Postfix would fail on, for `addresses` and every address reaching them
    (domains/routing.py, run on the rows as this transaction sees them): a loop (Postfix defers
    the whole message, 451 4.6.0, after virtual_alias_recursion_limit nested lookups), an
    expansion past virtual_alias_expansion_limit, or a final recipient left in an alias domain
    (a forwarding to the mailbox's own name@alias-domain: every mail bounces)."""
    messages = [_routing_error(problem) for problem in routing_problems(addresses, upstream=upstream)]
    if messages:
        raise ValidationError({field: messages} if field else messages)


def _check_domain_routing(names: Iterable[str]) -> None:
    """`_check_routing` for a write that brings the domains `names` into or out of the maps:
    every alias (catch-alls included) naming an address of them."""
    _check_routing([_routing_key(a) for a in addresses_naming_domains(names)])


def _routing_key(address: str) -> str:
    """The address to check for a write to `address`: for a catch-all, an address that is
    nothing else in its domain (a space never appears in a stored address)."""
    return routing.CATCHALL_PROBE + address if address.startswith("@") else address


def _record_deleted_maildirs(mailboxes) -> None:
    """Remember these maildirs: no new mailbox gets one, `manage.py maildirs purge` removes them."""
    DeletedMaildir.objects.bulk_create(
        [DeletedMaildir(maildir=maildir, address=address) for maildir, address in mailboxes.values_list("maildir", "address")],
        ignore_conflicts=True)


def _free_maildir(domain: Domain, local_part: str, also_taken: Iterable[str] = ()) -> str:
    """`domain/local_part/`, or, when a mailbox ever had that directory (or `also_taken`, a
    batch's own, names it), `domain/local_part@N/` ('@' never appears in a local part, so no
    other address can ask for it)."""
    base = f"{domain.name}/{local_part}"
    taken = set(DeletedMaildir.objects.filter(maildir__startswith=base).values_list("maildir", flat=True))
    taken |= set(Mailbox.objects.filter(maildir__startswith=base).values_list("maildir", flat=True))
    taken |= {m for m in also_taken if m.startswith(base)}
    candidate, n = f"{base}/", 1
    while candidate in taken:
        n += 1
        candidate = f"{base}@{n}/"
    return candidate


class Holdings:
    """What the creation rules read about rows that already exist: which addresses are taken
    (as a mailbox, as an alias), which maildirs are taken (live or deleted), and what each
    domain holds against its limits (mailboxes, plain aliases, quota bytes allocated).

    The single-object services ask about one address, and each answer is one query made on
    demand; a batch `preload`s the answers for all its rows in a few queries. Either way,
    `add_mailbox`/`add_alias` record each accepted row, so the next row is judged against the
    rows before it, exactly as if they had been created one by one. Read under the domains'
    row locks (_lock_domain), so the answers hold until the transaction ends."""

    def __init__(self) -> None:
        self._mailboxes: set[str] = set()
        self._aliases: set[str] = set()
        self._maildirs: set[str] = set()
        self._asked_addresses: set[str] = set()
        self._asked_maildirs: set[str] = set()
        self._counts: dict[int, list[int]] = {}  # domain pk -> [mailboxes, plain aliases, allocated bytes]
        self.new_maildirs: set[str] = set()

    def preload(self, domains: Iterable[Domain], *, addresses: Iterable[str], maildirs: Iterable[str]) -> None:
        """Answer for these addresses, maildirs and domains at once (six queries at most)."""
        addresses = sorted(set(addresses) - self._asked_addresses)
        maildirs = sorted(set(maildirs) - self._asked_maildirs)
        if addresses:
            self._mailboxes |= set(Mailbox.objects.filter(address__in=addresses).values_list("address", flat=True))
            self._aliases |= set(Alias.objects.filter(address__in=addresses).values_list("address", flat=True))
            self._asked_addresses |= set(addresses)
        if maildirs:
            self._maildirs |= set(Mailbox.objects.filter(maildir__in=maildirs).values_list("maildir", flat=True))
            self._maildirs |= set(DeletedMaildir.objects.filter(maildir__in=maildirs).values_list("maildir", flat=True))
            self._asked_maildirs |= set(maildirs)
        self._load_counts([d for d in domains if d.pk not in self._counts])

    def _load_counts(self, domains: list[Domain]) -> None:
        # Only what a domain's limits need: an unlimited domain costs no aggregate.
        for domain in domains:
            self._counts[domain.pk] = [0, 0, 0]
        counted = [d.pk for d in domains if d.max_mailboxes or d.quota_bytes]
        if counted:
            for pk, n, total in (Mailbox.objects.filter(domain__in=counted).values("domain")
                                 .annotate(n=Count("pk"), total=Sum("quota_bytes"))
                                 .values_list("domain", "n", "total")):
                self._counts[pk][0], self._counts[pk][2] = n, total or 0
        counted = [d.pk for d in domains if d.max_aliases]
        if counted:
            for pk, n in (Alias.objects.filter(domain__in=counted, mailbox__isnull=True).values("domain")
                          .annotate(n=Count("pk")).values_list("domain", "n")):
                self._counts[pk][1] = n

    def _ask(self, address: str) -> None:
        if address not in self._asked_addresses:
            self.preload((), addresses=[address], maildirs=())

    def is_mailbox(self, address: str) -> bool:
        self._ask(address)
        return address in self._mailboxes

    def is_alias(self, address: str) -> bool:
        self._ask(address)
        return address in self._aliases

    def maildir_taken(self, maildir: str) -> bool:
        if maildir not in self._asked_maildirs:
            self.preload((), addresses=(), maildirs=[maildir])
        return maildir in self._maildirs

    def counts(self, domain: Domain) -> list[int]:
        """[mailboxes, plain aliases, allocated quota bytes] of `domain` (0 where no limit reads it)."""
        if domain.pk not in self._counts:
            self._load_counts([domain])
        return self._counts[domain.pk]

    def add_mailbox(self, mailbox: Mailbox) -> None:
        self._mailboxes.add(mailbox.address)
        self._maildirs.add(mailbox.maildir)
        self.new_maildirs.add(mailbox.maildir)
        counts = self.counts(mailbox.domain)
        counts[0] += 1
        counts[2] += mailbox.quota_bytes

    def add_alias(self, alias: Alias) -> None:
        self._aliases.add(alias.address)
        self.counts(alias.domain)[1] += 1


def _check_can_hold_addresses(domain: Domain) -> None:
    if domain.backup_mx:
        raise ValidationError(_("%(domain)s is a backup MX domain: it relays mail and holds no "
                                "mailboxes or aliases.") % {"domain": domain_label(domain.name)},
                              code="domain_is_backup_mx")


def normalize_destinations(values: Iterable[str]) -> list[str]:
    """Lower-cased, punycoded, de-duplicated destination addresses, in the given order."""
    result: list[str] = []
    errors: list[ValidationError] = []
    for raw in values:
        raw = raw.strip()
        if not raw:
            continue
        try:
            address = normalize_address(raw)
        except ValidationError as exc:
            errors.extend(exc.error_list)
            continue
        if address not in result:
            result.append(address)
    if errors:
        raise ValidationError({"destinations": errors})
    if not result:
        raise _field_error("destinations", _("Enter at least one destination address."), "destinations_empty")
    if len(result) > MAX_DESTINATIONS:
        raise _field_error("destinations", _("At most %(max)d destinations.") % {"max": MAX_DESTINATIONS}, "destinations_too_many")
    return result


def _is_local_domain(name: str) -> bool:
    """Whether this server delivers `name` itself, as the Postfix maps read it (mailstack.py):
    an active, non-backup-MX domain, or an active alias domain of one. A domain admin's pending
    alias-domain request, an inactive or a backup-MX (relayed) domain is not local."""
    live = {"active": True, "backup_mx": False}
    return (Domain.objects.filter(name=name, **live).exists()
            or AliasDomain.objects.filter(name=name, active=True,
                                          **{f"target__{k}": v for k, v in live.items()}).exists())


# --- domains -------------------------------------------------------------------------

@transaction.atomic
def domain_create(*, name: str, acting_user, description: str = "", active: bool = True,
                  backup_mx: bool = False, transport: str = "", max_mailboxes: int = 0,
                  max_aliases: int = 0, max_quota_bytes: int = 0, quota_bytes: int = 0,
                  default_quota_bytes: int = 0, allow_external_forwarding: bool = True,
                  allow_lookalike: bool = False) -> Domain:
    """Create a domain. Superadmins and the CLI only (PermissionDenied otherwise); a look-alike
    name (UTS #39, domains/lookalike.py) needs `allow_lookalike`."""
    require_routing_authority(acting_user)
    try:
        name = normalize_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.error_list}) from None
    _lock_name(name)
    check_lookalike(name, confirmed=allow_lookalike, may_confirm=True)
    claimed = AliasDomain.objects.filter(name=name).select_related("target").first()
    if claimed is not None and not claimed.approved:
        # A domain admin's request must not squat a name: say whose it is and how to free it.
        raise _field_error("name", _("%(name)s is requested as an alias domain of %(target)s, awaiting approval: "
                                     "refuse that request first.") % {"name": name, "target": claimed.target.name},
                           "name_is_requested_alias_domain")
    if claimed is not None:
        raise _field_error("name", _("%(name)s is already an alias domain.") % {"name": name}, "name_is_alias_domain")
    domain = Domain(name=name, description=description.strip(), active=active, backup_mx=backup_mx,
                    transport=transport.strip(), max_mailboxes=max_mailboxes, max_aliases=max_aliases,
                    max_quota_bytes=max_quota_bytes, quota_bytes=quota_bytes,
                    default_quota_bytes=default_quota_bytes,
                    allow_external_forwarding=allow_external_forwarding)
    _full_clean(domain)
    _validate_domain_settings(domain)
    domain.save()
    audit_record(actor=acting_user, action="domain.create", obj=domain, domain_name=domain.name,
                 after=snapshot(domain))
    return domain


@transaction.atomic
def domain_update(*, domain: Domain, acting_user, drop_external_forwarding: bool = False,
                  **changes: Any) -> Domain:
    """Change a domain's settings. With `drop_external_forwarding`, when forwarding to other
    servers ends up disallowed, the existing forwardings lose their other-server destinations
    too (forwarding_drop_external), in the same transaction."""
    unknown = set(changes) - DOMAIN_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"domain_update() got unexpected fields: {', '.join(sorted(unknown))}")
    if set(changes) - DOMAIN_ADMIN_EDITABLE_FIELDS:
        # SECURITY: activation, backup MX, transport and limits decide routing and resources.
        require_routing_authority(acting_user)
    domain = _lock_domain(domain)
    before = snapshot(domain)
    for field, value in changes.items():
        setattr(domain, field, value.strip() if isinstance(value, str) else value)
    _full_clean(domain)
    _validate_domain_settings(domain)
    _check_domain_fits_usage(domain)
    domain.save()
    if domain.active != before["active"] or domain.backup_mx != before["backup_mx"]:
        # The domain's addresses enter or leave the maps, and so do those of its alias domains
        # (an alias domain of an inactive domain is not one): what names them may now loop.
        _check_domain_routing(domain_addresses(domain))
    if domain.active != before["active"]:
        end_mailbox_sessions(domain=domain)  # SECURITY: its mail users' /me/ sessions end now
    audit_record(actor=acting_user, action="domain.update", obj=domain, domain_name=domain.name,
                 before=before, after=snapshot(domain))
    if drop_external_forwarding and not domain.allow_external_forwarding:
        forwarding_drop_external(domain=domain, acting_user=acting_user)
    return domain


@transaction.atomic
def forwarding_drop_external(*, domain: Domain, acting_user) -> int:
    """Remove the destinations outside this server (not one of its domains or alias domains)
    from every mailbox forwarding of `domain`; a forwarding left with nothing to deliver to
    is deleted (the mailbox then keeps its mail). Each change is audited. Returns how many
    forwardings changed."""
    domain = _lock_domain(domain)
    changed = 0
    for forwarding in Alias.objects.select_for_update().filter(domain=domain, mailbox__isnull=False).order_by("pk"):
        kept = [d for d in forwarding.destinations if _is_local_domain(d.rpartition("@")[2])]
        if kept == list(forwarding.destinations):
            continue
        changed += 1
        before = snapshot(forwarding)
        if kept:
            forwarding.destinations = kept
            forwarding.save(update_fields=["destinations", "modified"])
            audit_record(actor=acting_user, action="forwarding.update", obj=forwarding, domain_name=domain.name,
                         before=before, after=snapshot(forwarding))
        else:
            address = forwarding.address
            forwarding.delete()
            audit_record(actor=acting_user, action="forwarding.delete", object_type="alias", object_repr=address,
                         domain_name=domain.name, before=before)
    return changed


def _check_domain_fits_usage(domain: Domain) -> None:
    """New limits must hold for what the domain already has."""
    errors: dict[str, list[str]] = {}
    mailboxes = domain.mailboxes.count()
    aliases = domain.aliases.filter(mailbox__isnull=True).count()
    if domain.backup_mx and (mailboxes or aliases):
        errors.setdefault("backup_mx", []).append(
            _("A backup MX domain holds no mailboxes or aliases; this domain has %(mailboxes)s "
              "and %(aliases)s.") % {
                "mailboxes": ngettext("%(n)d mailbox", "%(n)d mailboxes", mailboxes) % {"n": mailboxes},
                "aliases": ngettext("%(n)d alias", "%(n)d aliases", aliases) % {"n": aliases}})
    if domain.max_mailboxes and mailboxes > domain.max_mailboxes:
        errors.setdefault("max_mailboxes", []).append(
            ngettext("The domain already has %(n)d mailbox.", "The domain already has %(n)d mailboxes.",
                     mailboxes) % {"n": mailboxes})
    if domain.max_aliases and aliases > domain.max_aliases:
        errors.setdefault("max_aliases", []).append(
            ngettext("The domain already has %(n)d alias.", "The domain already has %(n)d aliases.",
                     aliases) % {"n": aliases})
    if domain.max_quota_bytes:
        over = domain.mailboxes.filter(quota_bytes__gt=domain.max_quota_bytes).count()
        unlimited = domain.mailboxes.filter(quota_bytes=0).count()
        if over or unlimited:
            errors.setdefault("max_quota_bytes", []).append(
                ngettext("%(n)d mailbox has a larger or unlimited quota; lower it first.",
                         "%(n)d mailboxes have a larger or unlimited quota; lower them first.",
                         over + unlimited) % {"n": over + unlimited})
    if domain.quota_bytes:
        allocated = domain.mailboxes.aggregate(total=Sum("quota_bytes"))["total"] or 0
        if allocated > domain.quota_bytes:
            errors.setdefault("quota_bytes", []).append(
                _("The mailboxes already have %(allocated)s allocated.") % {"allocated": format_size(allocated)})
        if domain.mailboxes.filter(quota_bytes=0).exists():
            errors.setdefault("quota_bytes", []).append(
                _("Some mailboxes are unlimited; give them a quota first."))
    if errors:
        raise ValidationError(errors)


def domain_set_active(*, domain: Domain, active: bool, acting_user) -> Domain:
    return domain_update(domain=domain, active=active, acting_user=acting_user)


def domain_deletion_summary(domain: Domain) -> dict[str, int]:
    """What deleting the domain takes with it, for the confirmation page and the audit log."""
    return {
        "mailboxes": domain.mailboxes.count(),
        "aliases": domain.aliases.count(),
        "alias_domains": domain.alias_domains.count(),
    }


def _deleted_aliases(before: dict) -> list[str]:
    """The aliases a delete's reference plan removed (left with no destination)."""
    return [change["alias"] for change in before.get("references", []) if change["deleted"]]


@transaction.atomic
def domain_delete(*, domain: Domain, acting_user) -> dict[str, int]:
    require_routing_authority(acting_user)
    domain = _lock_domain(domain)
    summary = domain_deletion_summary(domain)
    plan = domain_references(domain, lock=True)
    before = snapshot(domain) | {"deleted": summary}
    name = domain.name
    before["references"] = apply_reference_plan(plan)
    # mailaccess: grants naming the domain's (or its alias domains') addresses go with it.
    names = [name, *domain.alias_domains.values_list("name", flat=True)]
    if withdrawn := sender_grants_withdraw_for(addresses=_deleted_aliases(before), domain_names=names,
                                               acting_user=acting_user):
        before["sender_grants"] = withdrawn
    _record_deleted_maildirs(domain.mailboxes.all())
    domain.delete()
    audit_record(actor=acting_user, action="domain.delete", object_type="domain", object_repr=name,
                 domain_name=name, before=before)
    return summary


# --- mailboxes -----------------------------------------------------------------------

def canonical_maildir(maildir: str) -> str:
    """`maildir` (relative to the mail root) in the one spelling the unique constraint compares:
    segments joined by single slashes, with a trailing slash. Spellings of one directory
    ("x/y", "x//y/", "./x/y/") would otherwise pass the constraint and give two mailboxes the
    same Dovecot home, each reading the other's mail. Raises ValidationError (maildir_invalid)
    for an absolute path, a '..' segment or a control character."""
    segments = [s for s in maildir.split("/") if s not in ("", ".")]
    if (maildir.startswith("/") or not segments or ".." in maildir
            or any(ord(c) < 32 or ord(c) == 127 for c in maildir)):
        raise _field_error("maildir", _("The maildir must be a plain path below the mail root."), "maildir_invalid")
    return "/".join(segments) + "/"


def _new_mailbox(domain: Domain, holdings: Holdings, *, local_part: str, password: str, name: str = "",
                 quota_bytes: int | None = None, active: bool = True, password_hash: str | None = None,
                 maildir: str | None = None) -> Mailbox:
    """Every rule for a new mailbox of `domain` (locked by the caller), judged against
    `holdings`: the unsaved mailbox, its password hashed, recorded in `holdings`. Shared by
    mailbox_create and addresses_create. Raises ValidationError."""
    try:
        local_part = normalize_local_part(local_part)
    except ValidationError as exc:
        raise ValidationError({"local_part": exc.error_list}) from None
    if password_hash is not None and not password_hash.startswith("{"):
        raise _field_error("password", _("A stored hash needs its Dovecot scheme prefix, e.g. {SHA512-CRYPT}."),
                           "password_hash_without_scheme")
    if not password and password_hash is None:
        raise _field_error("password", _("Enter a password."), "password_empty")
    if maildir:
        maildir = canonical_maildir(maildir)
    _check_can_hold_addresses(domain)
    address = f"{local_part}@{domain.name}"
    if holdings.is_mailbox(address):
        raise _field_error("local_part", _("%(address)s is already a mailbox.") % {"address": address}, "address_is_mailbox")
    if holdings.is_alias(address):
        raise _field_error("local_part", _("%(address)s is already an alias; delete the alias "
                                               "first or choose another name.") % {"address": address}, "address_is_alias")
    mailboxes, _aliases, allocated = holdings.counts(domain)
    if domain.max_mailboxes and mailboxes >= domain.max_mailboxes:
        raise ValidationError(_("Mailbox limit reached: %(domain)s may have at most %(max)d mailboxes.")
                              % {"domain": domain_label(domain.name), "max": domain.max_mailboxes},
                              code="mailbox_limit_reached")
    quota = domain.default_quota_bytes if quota_bytes is None else quota_bytes
    _check_mailbox_quota(domain, quota, allocated=allocated)
    if maildir:
        if holdings.maildir_taken(maildir):
            raise _field_error("maildir", _("The maildir %(maildir)s belongs to another mailbox, or to a deleted "
                                            "one not purged yet.") % {"maildir": maildir}, "maildir_taken")
    else:
        maildir = f"{domain.name}/{local_part}/"
        if holdings.maildir_taken(maildir):
            maildir = _free_maildir(domain, local_part, holdings.new_maildirs)
    mailbox = Mailbox(domain=domain, local_part=local_part, address=address, name=name.strip(),
                      quota_bytes=quota, active=active, maildir=maildir,
                      password=password_hash if password_hash is not None else hash_password(password),
                      password_changed=None if password_hash is not None else timezone.now())
    # The domain was just locked: no query to check it exists; uniqueness came from holdings.
    _full_clean(mailbox, exclude=["domain"], validate_unique=False)
    holdings.add_mailbox(mailbox)
    return mailbox


@transaction.atomic
def mailbox_create(*, domain: Domain, local_part: str, password: str, acting_user, name: str = "",
                   quota_bytes: int | None = None, active: bool = True,
                   password_hash: str | None = None, maildir: str | None = None) -> Mailbox:
    """Create a mailbox. `password_hash` (instead of `password`) keeps an existing hash with its
    Dovecot scheme prefix, and `maildir` an existing path below the mail root: both for
    importing from another panel (pfimport) or a CSV dry run (a placeholder hash), where no
    mail moves and nobody's password changes. Raises ValidationError."""
    domain = _lock_domain(domain)
    mailbox = _new_mailbox(domain, Holdings(), local_part=local_part, password=password, name=name,
                           quota_bytes=quota_bytes, active=active, password_hash=password_hash, maildir=maildir)
    mailbox.save()
    # A new mailbox ends expansions, it cannot start a loop: nothing upstream can break.
    _check_routing([mailbox.address], upstream=False)
    # The usage row exists from the start, so Dovecot's first deliveries only ever update it.
    QuotaUsage.objects.create(mailbox=mailbox)
    audit_record(actor=acting_user, action="mailbox.create", obj=mailbox, domain_name=domain.name,
                 after=snapshot(mailbox))
    return mailbox


@transaction.atomic
def mailbox_update(*, mailbox: Mailbox, acting_user, **changes: Any) -> Mailbox:
    unknown = set(changes) - MAILBOX_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"mailbox_update() got unexpected fields: {', '.join(sorted(unknown))}")
    domain = _lock_domain(mailbox.domain)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    before = snapshot(mailbox)
    if "quota_bytes" in changes and changes["quota_bytes"] != mailbox.quota_bytes:
        _check_mailbox_quota(domain, changes["quota_bytes"], exclude_pk=mailbox.pk)
    for field, value in changes.items():
        setattr(mailbox, field, value.strip() if isinstance(value, str) else value)
    _full_clean(mailbox)
    mailbox.save()
    if mailbox.active != before["active"]:
        _check_routing([mailbox.address])
        end_mailbox_sessions(mailbox=mailbox)  # SECURITY: its /me/ sessions end now
    audit_record(actor=acting_user, action="mailbox.update", obj=mailbox, domain_name=domain.name,
                 before=before, after=snapshot(mailbox))
    return mailbox


def mailbox_set_active(*, mailbox: Mailbox, active: bool, acting_user) -> Mailbox:
    return mailbox_update(mailbox=mailbox, active=active, acting_user=acting_user)


@transaction.atomic
def mailbox_set_password(*, mailbox: Mailbox, password: str = "", acting_user,
                         password_hash: str | None = None) -> Mailbox:
    """Set the mailbox's password; `password_hash` (instead) keeps a hash made elsewhere, with
    its Dovecot scheme prefix (a Postfixadmin import re-run: the user changed it there)."""
    if password_hash is not None and not password_hash.startswith("{"):
        raise _field_error("password", _("A stored hash needs its Dovecot scheme prefix, e.g. {SHA512-CRYPT}."),
                           "password_hash_without_scheme")
    if not password and password_hash is None:
        raise _field_error("password", _("Enter a password."), "password_empty")
    mailbox = Mailbox.objects.select_for_update().select_related("domain").get(pk=mailbox.pk)
    mailbox.password = password_hash if password_hash is not None else hash_password(password)
    mailbox.password_changed = None if password_hash is not None else timezone.now()
    mailbox.save(update_fields=["password", "password_changed", "modified"])
    # The audit entry says that the password changed, never what it is.
    audit_record(actor=acting_user, action="mailbox.password", obj=mailbox,
                 domain_name=mailbox.domain.name)
    # With Dovecot's auth cache on, the old password would work until the entry expires.
    address = mailbox.address
    transaction.on_commit(lambda: flush_auth_cache(address))
    return mailbox


@transaction.atomic
def mailbox_delete(*, mailbox: Mailbox, acting_user) -> None:
    domain = _lock_domain(mailbox.domain)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    before = snapshot(mailbox)
    forwarding = Alias.objects.filter(mailbox=mailbox).first()
    if forwarding:
        before["forwarding"] = list(forwarding.destinations)
    address = mailbox.address
    before["references"] = apply_reference_plan(mailbox_references(mailbox, lock=True))
    if withdrawn := sender_grants_withdraw_for(addresses=[address, *_deleted_aliases(before)],
                                               acting_user=acting_user):  # mailaccess
        before["sender_grants"] = withdrawn
    _record_deleted_maildirs(Mailbox.objects.filter(pk=mailbox.pk))
    mailbox.delete()  # its quota usage row and forwarding alias go with it
    audit_record(actor=acting_user, action="mailbox.delete", object_type="mailbox", object_repr=address,
                 domain_name=domain.name, before=before)


def _rename_target(domain: Domain, local_part: str, current: str) -> tuple[str, str]:
    """(normalized local part, new address) for renaming `current` in `domain`; ValidationError
    (local_part) when the name is not served or the address is another mailbox's or alias's."""
    try:
        local_part = normalize_local_part(local_part)
    except ValidationError as exc:
        raise ValidationError({"local_part": exc.error_list}) from None
    new = f"{local_part}@{domain.name}"
    if new != current and (Mailbox.objects.filter(address=new).exists() or Alias.objects.filter(address=new).exists()):
        raise _field_error("local_part", _("%(address)s is already a mailbox or an alias.")
                           % {"address": address_display(new)}, "address_taken")
    return local_part, new


def _renamed_forms(domain: Domain, old: str, local_part: str) -> dict[str, str]:
    """{old form: new form} of a renamed address, in its domain and in each of its alias domains
    (name@alias-domain reached it too): the destinations that name one follow to the new name."""
    old_local = old.rpartition("@")[0]
    renamed = {old: f"{local_part}@{domain.name}"}
    for alias_domain_name in domain.alias_domains.values_list("name", flat=True):
        renamed[f"{old_local}@{alias_domain_name}"] = f"{local_part}@{alias_domain_name}"
    return renamed


def _rename_followers(renamed: dict[str, str], *, also: Q = Q(pk__in=[])) -> tuple[dict[str, str], list[Alias]]:
    """The aliases to update for a rename, locked, in pk order: those naming a renamed form or its
    name+extension form (recipient_delimiter: name+lists@ becomes new+lists@), and `also`.
    Returns `renamed` extended with the extension forms found, and the aliases."""
    followers = list(Alias.objects.select_for_update().filter(
        Q(destinations__overlap=list(renamed)) | also | Q(pk__in=aliases_naming_extensions(set(renamed))))
        .select_related("domain").order_by("pk"))
    renamed = dict(renamed)
    for destination, (address, extension) in extension_forms(
            {d for alias in followers for d in alias.destinations}, set(renamed)).items():
        local, _at, domain_name = renamed[address].rpartition("@")
        renamed[destination] = f"{local}{extension}@{domain_name}"
    return renamed, followers


@transaction.atomic
def mailbox_rename(*, mailbox: Mailbox, local_part: str, acting_user) -> Mailbox:
    """Give the mailbox a new address in its domain. The maildir path stays as it is, so no
    mail moves on disk (Dovecot finds it through the userdb `home`, docs/mailstack.md); its
    forwarding, the aliases that named it and its quota-usage row follow the new address.
    Each change is audited. Raises ValidationError (local_part) when the new address is
    invalid or taken."""
    domain = _lock_domain(mailbox.domain)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    _check_can_hold_addresses(domain)
    old, (local_part, new) = mailbox.address, _rename_target(domain, local_part, mailbox.address)
    if new == old:
        return mailbox
    before = snapshot(mailbox)
    mailbox.local_part, mailbox.address = local_part, new
    _full_clean(mailbox)
    mailbox.save(update_fields=["local_part", "address", "modified"])
    # quota_usage.username references the address (a deferred foreign key: checked at commit).
    QuotaUsage.objects.filter(mailbox_id=old).update(mailbox_id=new)
    LastLogin.objects.filter(mailbox_id=old).update(mailbox_id=new)   # the same, for Dovecot's last_login
    sender_grants_follow_rename(old=old, new=new, acting_user=acting_user)   # mailaccess
    vacation_follow_rename(mailbox=mailbox)   # the reply's :from is the address
    audit_record(actor=acting_user, action="mailbox.rename", obj=mailbox, domain_name=domain.name,
                 object_repr=new, before=before, after=snapshot(mailbox))
    # The old name in the domain and in each of its alias domains (name@alias-domain reached
    # the mailbox too): every destination naming one follows to the same form of the new name.
    renamed, followers = _rename_followers(_renamed_forms(domain, old, local_part), also=Q(mailbox=mailbox))
    for alias in followers:
        alias_before = snapshot(alias)
        alias.destinations = list(dict.fromkeys(renamed.get(d, d) for d in alias.destinations))
        update = ["destinations", "modified"]
        if alias.mailbox_id == mailbox.pk:
            alias.address = new
            update.append("address")
        alias.save(update_fields=update)
        audit_record(actor=acting_user, action="forwarding.update" if alias.mailbox_id else "alias.update",
                     obj=alias, domain_name=alias.domain.name, before=alias_before, after=snapshot(alias))
    # The new address may close a loop (an alias already naming it, now reached again).
    _check_routing([new], field="local_part")
    transaction.on_commit(lambda: flush_auth_cache(old))
    return mailbox


@transaction.atomic
def mailbox_set_forwarding(*, mailbox: Mailbox, destinations: Iterable[str], keep_copy: bool,
                           acting_user) -> Alias | None:
    """Forward the mailbox's mail to `destinations`, keeping a copy or not; none stops forwarding."""
    domain = _lock_domain(mailbox.domain)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    existing = Alias.objects.filter(mailbox=mailbox).first()
    cleaned = [d for d in destinations if d.strip()]
    if not cleaned:
        if existing:
            before = snapshot(existing)
            existing.delete()
            audit_record(actor=acting_user, action="forwarding.delete", object_type="alias",
                         object_repr=mailbox.address, domain_name=domain.name, before=before)
        return None
    targets = [d for d in normalize_destinations(cleaned) if d != mailbox.address]
    if not domain.allow_external_forwarding:
        external = [d for d in targets if not _is_local_domain(d.rpartition("@")[2])]
        if external:
            raise _field_error("destinations", _(
                "%(domain)s does not allow forwarding to other servers: %(addresses)s."
            ) % {"domain": domain_label(domain.name), "addresses": ", ".join(external)}, "external_forwarding_disallowed")
    if not targets and not keep_copy:
        raise _field_error("destinations", _("Enter at least one address to forward to."), "destinations_empty")
    final = ([mailbox.address] if keep_copy else []) + targets
    if existing:
        before = snapshot(existing)
        existing.destinations = final
        existing.save(update_fields=["destinations", "modified"])
        alias = existing
        audit_record(actor=acting_user, action="forwarding.update", obj=alias, domain_name=domain.name,
                     before=before, after=snapshot(alias))
    else:
        alias = Alias.objects.create(domain=domain, address=mailbox.address, destinations=final,
                                     mailbox=mailbox, active=True)
        audit_record(actor=acting_user, action="forwarding.create", obj=alias, domain_name=domain.name,
                     after=snapshot(alias))
    _check_routing([mailbox.address], field="destinations")
    return alias


# --- aliases -------------------------------------------------------------------------

def _new_alias(domain: Domain, holdings: Holdings, *, local_part: str, destinations: Iterable[str],
               active: bool = True) -> Alias:
    """Every rule for a new alias of `domain` (locked by the caller; an empty `local_part` is
    the catch-all), judged against `holdings`: the unsaved alias, recorded in `holdings`.
    Shared by alias_create and addresses_create; the routing check comes after the save.
    Raises ValidationError."""
    if local_part.strip():
        try:
            local_part = normalize_local_part(local_part)
        except ValidationError as exc:
            raise ValidationError({"local_part": exc.error_list}) from None
    else:
        local_part = ""
    destinations = normalize_destinations(destinations)
    _check_can_hold_addresses(domain)
    address = f"{local_part}@{domain.name}"
    if address in destinations:
        raise _field_error("destinations", _("An alias cannot deliver to itself."), "alias_loop")
    if holdings.is_mailbox(address):
        raise _field_error("local_part", _("%(address)s is a mailbox: set its forwarding instead "
                                               "of an alias.") % {"address": address}, "address_is_mailbox")
    if holdings.is_alias(address):
        message = (_("%(domain)s already has a catch-all.") if not local_part
                   else _("%(address)s is already an alias."))
        raise _field_error("local_part", message % {"domain": domain_label(domain.name), "address": address}, "address_is_alias")
    if domain.max_aliases and holdings.counts(domain)[1] >= domain.max_aliases:
        raise ValidationError(_("Alias limit reached: %(domain)s may have at most %(max)d aliases.")
                              % {"domain": domain_label(domain.name), "max": domain.max_aliases},
                              code="alias_limit_reached")
    alias = Alias(domain=domain, address=address, destinations=destinations, active=active)
    _full_clean(alias, exclude=["domain", "mailbox"], validate_unique=False)
    holdings.add_alias(alias)
    return alias


@transaction.atomic
def alias_create(*, domain: Domain, local_part: str, destinations: Iterable[str], acting_user,
                 active: bool = True) -> Alias:
    """Create an alias; an empty `local_part` makes the domain's catch-all (@domain)."""
    domain = _lock_domain(domain)
    alias = _new_alias(domain, Holdings(), local_part=local_part, destinations=destinations, active=active)
    alias.save()
    _check_routing([_routing_key(alias.address)], field="destinations")
    audit_record(actor=acting_user, action="alias.create", obj=alias, domain_name=domain.name,
                 after=snapshot(alias))
    return alias


@dataclass
class NewMailbox:
    """One mailbox for addresses_create: the arguments of mailbox_create."""

    domain: Domain
    local_part: str
    password: str = ""
    name: str = ""
    quota_bytes: int | None = None
    active: bool = True
    password_hash: str | None = None
    maildir: str | None = None


@dataclass
class NewAlias:
    """One alias for addresses_create: the arguments of alias_create."""

    domain: Domain
    local_part: str
    destinations: list[str]
    active: bool = True


def _preload_keys(item: NewMailbox | NewAlias, domain: Domain) -> tuple[str, str | None]:
    """The address and maildir an item will most likely take, for Holdings.preload (a wrong
    guess costs one query later, never a wrong answer: Holdings asks again)."""
    local_part = (item.local_part or "").strip().lower()
    maildir = None
    if isinstance(item, NewMailbox):
        try:
            maildir = canonical_maildir(item.maildir) if item.maildir else f"{domain.name}/{local_part}/"
        except ValidationError:
            maildir = None
    return f"{local_part}@{domain.name}", maildir


# A batch this large changes the routing tables' size enough to mislead the planner.
ANALYZE_AFTER_ROWS = 1000


def _analyze_routing_tables() -> None:
    """ANALYZE the tables the routing checks read, inside the batch's transaction.

    A first import fills near-empty tables in one transaction, which autovacuum cannot analyze
    before it commits; every routing check after it (the write-time check is a prepared
    statement, domains/routing_db.py) was then planned for empty tables and took 0.5 s instead
    of milliseconds (a 10,000-mailbox Postfixadmin import: 119 s, 108 of them there). ANALYZE
    counts the transaction's own new rows, and its new statistics replan cached plans."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE domain, alias_domain, mailbox, alias, quota_usage")


@transaction.atomic
def addresses_create(*, items: Sequence[NewMailbox | NewAlias], acting_user) -> list[Mailbox | Alias | ValidationError]:
    """Create many mailboxes and aliases with every rule of mailbox_create and alias_create
    (the same _new_mailbox and _new_alias), done in batches: the domains locked in one query,
    the addresses and maildirs already taken read once (Holdings.preload), the rows written
    with bulk_create, one routing check over all the new addresses (domains/routing_db.py),
    and one audit entry per created object, written together.

    Returns, in the order of `items`, each created object or the ValidationError refusing it.
    Items are judged in order, each against those accepted before it, as if created one by one;
    an item whose address the routing check refuses is taken out and the others written again.
    A refused item is simply not created: a caller wanting all or nothing rolls back."""
    results: list[Mailbox | Alias | ValidationError] = []
    locked = {d.pk: d for d in Domain.objects.select_for_update()
              .filter(pk__in={item.domain.pk for item in items}).order_by("pk")}
    holdings = Holdings()
    keys = [_preload_keys(item, locked[item.domain.pk]) for item in items if item.domain.pk in locked]
    holdings.preload(locked.values(), addresses=[a for a, _m in keys], maildirs=[m for _a, m in keys if m])
    for item in items:
        domain = locked.get(item.domain.pk)
        try:
            if domain is None:
                raise ValidationError(_("This domain no longer exists."), code="domain_gone")
            fields = {k: v for k, v in vars(item).items() if k != "domain"}
            build = _new_mailbox if isinstance(item, NewMailbox) else _new_alias
            results.append(build(domain, holdings, **fields))
        except ValidationError as exc:
            results.append(exc)
    accepted = [i for i, r in enumerate(results) if not isinstance(r, ValidationError)]
    while accepted:
        savepoint = transaction.savepoint()
        created = [results[i] for i in accepted]
        mailboxes = [obj for obj in created if isinstance(obj, Mailbox)]
        Mailbox.objects.bulk_create(mailboxes, batch_size=1000)
        # The usage rows exist from the start, as mailbox_create makes them.
        QuotaUsage.objects.bulk_create([QuotaUsage(mailbox=m) for m in mailboxes], batch_size=1000)
        Alias.objects.bulk_create([obj for obj in created if isinstance(obj, Alias)], batch_size=1000)
        if len(created) >= ANALYZE_AFTER_ROWS:
            _analyze_routing_tables()
        refused = _batch_routing_refusals({i: results[i] for i in accepted})
        if not refused:
            transaction.savepoint_commit(savepoint)
            break
        transaction.savepoint_rollback(savepoint)
        for obj in created:  # written again without the refused ones: new rows again
            obj.pk, obj._state.adding = None, True
        for i, error in refused.items():
            results[i] = error
        accepted = [i for i in accepted if i not in refused]
    AuditEntry.objects.bulk_create([
        audit_entry(actor=acting_user, action="mailbox.create" if isinstance(obj, Mailbox) else "alias.create",
                    obj=obj, domain_name=obj.domain.name, domain_id=obj.domain_id, after=snapshot(obj))
        for obj in results if not isinstance(obj, ValidationError)], batch_size=1000)
    return results


def _batch_routing_refusals(created: dict[int, Mailbox | Alias]) -> dict[int, ValidationError]:
    """The routing check of mailbox_create and alias_create, once over a batch just written:
    for each item a problem names (its address, or one in the problem's cycle), the error
    its own service would raise. A problem upstream naming no new address (an existing alias
    reaching the batch) is put on the last new alias, which is where it was found."""
    by_key = {(_routing_key(obj.address) if isinstance(obj, Alias) else obj.address): i for i, obj in created.items()}
    refused: dict[int, ValidationError] = {}
    for problem in routing_problems(list(by_key), upstream=True):
        blamed = [by_key[a] for a in (problem.address, *problem.detail) if a in by_key]
        if not blamed:
            blamed = [max((i for i, obj in created.items() if isinstance(obj, Alias)), default=max(created))]
        for i in dict.fromkeys(blamed):
            error = _routing_error(problem)
            refused[i] = ValidationError({"destinations": [error]}) if isinstance(created[i], Alias) else error
    return refused


@transaction.atomic
def alias_update(*, alias: Alias, acting_user, destinations: Iterable[str] | None = None,
                 active: bool | None = None) -> Alias:
    domain = _lock_domain(alias.domain)
    alias = Alias.objects.select_for_update().get(pk=alias.pk)
    before = snapshot(alias)
    if destinations is not None:
        destinations = normalize_destinations(destinations)
        if alias.mailbox_id is None and alias.address in destinations:
            raise _field_error("destinations", _("An alias cannot deliver to itself."), "alias_loop")
        alias.destinations = destinations
    if active is not None:
        alias.active = active
    _full_clean(alias)
    alias.save()
    _check_routing([_routing_key(alias.address)], field="destinations" if destinations is not None else None)
    audit_record(actor=acting_user, action="alias.update", obj=alias, domain_name=domain.name,
                 before=before, after=snapshot(alias))
    return alias


def alias_set_active(*, alias: Alias, active: bool, acting_user) -> Alias:
    return alias_update(alias=alias, active=active, acting_user=acting_user)


@transaction.atomic
def alias_rename(*, alias: Alias, local_part: str, acting_user) -> Alias:
    """Give an alias a new name in its domain; the aliases that named the old address, also as
    name@alias-domain, name the new one, and so do the send-as grants naming it. A forwarding
    follows its mailbox (mailbox_rename) and the catch-all has no name: both raise
    ValidationError (local_part), as does a new name that is invalid or taken. Audited."""
    domain = _lock_domain(alias.domain)
    alias = Alias.objects.select_for_update().get(pk=alias.pk)
    if alias.mailbox_id or alias.address.startswith("@"):
        raise _field_error("local_part", _("Only an alias with a name can be renamed: rename the mailbox of a "
                                           "forwarding instead."), "alias_not_renamable")
    old, (local_part, new) = alias.address, _rename_target(domain, local_part, alias.address)
    if new == old:
        return alias
    before = snapshot(alias)
    alias.address = new
    _full_clean(alias)
    alias.save(update_fields=["address", "modified"])
    audit_record(actor=acting_user, action="alias.rename", obj=alias, domain_name=domain.name, object_repr=new,
                 before=before, after=snapshot(alias))
    # The old address is free for reuse: its send-as grants move with the alias, as a mailbox's do.
    sender_grants_follow_rename(old=old, new=new, acting_user=acting_user)   # mailaccess
    renamed, followers = _rename_followers(_renamed_forms(domain, old, local_part))
    for follower in followers:
        follower_before = snapshot(follower)
        follower.destinations = list(dict.fromkeys(renamed.get(d, d) for d in follower.destinations))
        follower.save(update_fields=["destinations", "modified"])
        audit_record(actor=acting_user, action="forwarding.update" if follower.mailbox_id else "alias.update",
                     obj=follower, domain_name=follower.domain.name, before=follower_before,
                     after=snapshot(follower))
    _check_routing([new], field="local_part")
    return alias


@transaction.atomic
def alias_delete(*, alias: Alias, acting_user) -> None:
    domain = _lock_domain(alias.domain)
    before = snapshot(alias)
    address = alias.address
    before["references"] = apply_reference_plan(alias_references(alias, lock=True))
    if withdrawn := sender_grants_withdraw_for(addresses=[address, *_deleted_aliases(before)],
                                               acting_user=acting_user):  # mailaccess
        before["sender_grants"] = withdrawn
    alias.delete()
    audit_record(actor=acting_user, action="alias.delete", object_type="alias", object_repr=address,
                 domain_name=domain.name, before=before)


def find_domain_for_address(address: str) -> tuple[Domain, str]:
    """(domain, local_part) for 'name@domain' or '@domain' (local part ''), for the CLI and forms."""
    text = (address or "").strip()
    if text.startswith("@"):
        local_part, domain_name = "", normalize_domain(text[1:])
    else:
        local_part, domain_name = split_address(text)
    try:
        return Domain.objects.get(name=domain_name), local_part
    except Domain.DoesNotExist:
        raise ValidationError(_("The domain %(domain)s does not exist.") % {"domain": domain_name},
                              code="domain_not_found") from None


# --- alias domains -------------------------------------------------------------------

@transaction.atomic
def alias_domain_create(*, name: str, target: Domain, acting_user, active: bool = True,
                        allow_lookalike: bool = False) -> AliasDomain:
    """Create an alias domain of `target`, or, for a domain admin, request one.

    A superadmin's (or the CLI's) alias domain is approved at once. A domain admin's stays
    unapproved and inactive, so out of every Postfix map (a database constraint keeps an
    unapproved alias domain inactive), until a superadmin approves it with
    `alias_domain_approve`. Look-alike names (UTS #39) need a superadmin's `allow_lookalike`;
    a domain admin's request for one is refused. Raises ValidationError, PermissionDenied.
    """
    authority = decides_routing(acting_user)
    can_manage = getattr(acting_user, "can_manage_domain", None)
    if not authority and not (can_manage and can_manage(target.pk)):
        raise PermissionDenied  # SECURITY: the target came from the client; mail users have none.
    try:
        name = normalize_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.error_list}) from None
    _lock_name(name)
    target = _lock_domain(target)
    if name == target.name:
        raise _field_error("name", _("A domain cannot be an alias of itself."), "alias_domain_self")
    if Domain.objects.filter(name=name).exists():
        raise _field_error("name", _("%(name)s is already a domain; an alias domain must not be.")
                               % {"name": name}, "name_is_domain")
    if target.backup_mx:
        raise _field_error("target", _("%(domain)s is a backup MX domain; an alias domain needs a "
                                           "domain with mailboxes.") % {"domain": domain_label(target.name)}, "target_is_backup_mx")
    check_lookalike(name, confirmed=allow_lookalike, may_confirm=authority)
    alias_domain = AliasDomain(name=name, target=target, active=active and authority, approved=authority)
    _full_clean(alias_domain)
    alias_domain.save()
    _check_domain_routing([name])
    audit_record(actor=acting_user, action="aliasdomain.create" if authority else "aliasdomain.request",
                 obj=alias_domain, domain_name=target.name, after=snapshot(alias_domain))
    return alias_domain


@transaction.atomic
def alias_domain_approve(*, alias_domain: AliasDomain, acting_user, allow_lookalike: bool = False) -> AliasDomain:
    """A superadmin approves a requested alias domain: it becomes active, and Postfix answers for it."""
    require_routing_authority(acting_user)
    _lock_name(alias_domain.name)
    alias_domain = AliasDomain.objects.select_for_update().select_related("target").get(pk=alias_domain.pk)
    if alias_domain.approved:
        raise ValidationError(_("%(name)s is already approved.") % {"name": alias_domain.display_name},
                              code="alias_domain_already_approved")
    check_lookalike(alias_domain.name, confirmed=allow_lookalike, may_confirm=True, field="allow_lookalike")
    before = snapshot(alias_domain)
    alias_domain.approved = True
    alias_domain.active = True
    alias_domain.save(update_fields=["approved", "active", "modified"])
    _check_domain_routing([alias_domain.name])
    audit_record(actor=acting_user, action="aliasdomain.approve", obj=alias_domain,
                 domain_name=alias_domain.target.name, before=before, after=snapshot(alias_domain))
    return alias_domain


@transaction.atomic
def alias_domain_set_active(*, alias_domain: AliasDomain, active: bool, acting_user) -> AliasDomain:
    """(De)activate an alias domain. Its domain admin may switch an approved alias domain off
    and on again; a superadmin (or the CLI) switching it off withdraws the approval, so that
    only a superadmin can bring the name back into routing (switching it on re-approves it),
    and withdraws the send-as grants naming its addresses."""
    alias_domain = AliasDomain.objects.select_for_update().select_related("target").get(pk=alias_domain.pk)
    authority = decides_routing(acting_user)
    if active and not alias_domain.approved and not authority:
        raise ValidationError(_("%(name)s waits for a superadmin's approval; it cannot be activated "
                                "before.") % {"name": alias_domain.display_name}, code="alias_domain_not_approved")
    before = snapshot(alias_domain)
    alias_domain.active = active
    if authority:
        # SECURITY: a superadmin's "off" is a routing decision the tenant must not undo.
        alias_domain.approved = active
        if not active:
            # Nor keep using: the send-as grants naming the name (which its domain admin could
            # make only while it was approved) go, as when it is deleted.
            if withdrawn := sender_grants_withdraw_for(domain_names=[alias_domain.name],
                                                       acting_user=acting_user):   # mailaccess
                before["sender_grants"] = withdrawn
    alias_domain.save(update_fields=["active", "approved", "modified"])
    _check_domain_routing([alias_domain.name])
    audit_record(actor=acting_user, action="aliasdomain.update", obj=alias_domain,
                 domain_name=alias_domain.target.name, before=before, after=snapshot(alias_domain))
    return alias_domain


@transaction.atomic
def alias_domain_delete(*, alias_domain: AliasDomain, acting_user) -> None:
    before = snapshot(alias_domain)
    before["references"] = apply_reference_plan(alias_domain_references(alias_domain, lock=True))
    target_name = alias_domain.target.name
    name = alias_domain.name
    if withdrawn := sender_grants_withdraw_for(addresses=_deleted_aliases(before), domain_names=[name],
                                               acting_user=acting_user):  # mailaccess
        before["sender_grants"] = withdrawn
    alias_domain.delete()
    audit_record(actor=acting_user, action="aliasdomain.delete", object_type="aliasdomain",
                 object_repr=name, domain_name=target_name, before=before)


# RFC 2142 mailbox names every mail domain should answer; postmaster and abuse are the ones
# other operators write to when something goes wrong.
ROLE_ADDRESSES = ("postmaster", "abuse", "hostmaster", "webmaster")


@transaction.atomic
def domain_create_with_role_aliases(*, role_addresses: Iterable[str], role_target: str, acting_user,
                                    **fields: Any) -> Domain:
    """Create a domain and, in the same transaction, aliases for the chosen RFC 2142 addresses."""
    roles = [r for r in role_addresses if r in ROLE_ADDRESSES]
    if roles and not (role_target or "").strip():
        raise _field_error("role_target", _("Give the address the role addresses deliver to."), "role_target_missing")
    domain = domain_create(acting_user=acting_user, **fields)
    for role in roles:
        try:
            alias_create(domain=domain, local_part=role, destinations=[role_target], acting_user=acting_user)
        except ValidationError as exc:
            raise ValidationError({"role_target": exc.messages}) from None
    return domain
