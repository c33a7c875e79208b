"""Writes for app passwords and send-as grants: atomic, audited, scope-checked.

The web views (admin and /me/), the CLI and the API call these; the acting user is an Admin,
a MailUserActor (the mailbox itself, on /me/) or None (the CLI, which decides like a superadmin).
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.mailusers import MailUserActor
from audit.services import actor_label_for, audit_record
from domains.addresses import address_display, normalize_address
from domains.doveadm import flush_auth_cache
from domains.models import AliasDomain, Domain, Mailbox
from domains.name_claims import decides_routing

from .models import AppPassword, SenderGrant

# Per mailbox: enough for every device a person has, few enough to list on one page.
MAX_ACTIVE_APP_PASSWORDS = 20
MAX_SENDER_GRANTS = 100
# 16 characters of RFC 4648 base32 = 80 random bits, shown as four groups of four.
SECRET_BYTES = 10


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def secret_sha256(secret: str) -> str:
    """The hex SHA-256 of `secret` as UTF-8: what Dovecot computes from the typed password
    (2.3 %{sha256:password}, 2.4 %{password | sha256 | hexlify}) and what the table stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """A fresh app password: 80 bits from `secrets`, lower-case base32 in groups (“abcd-efgh-…”),
    easy to type on a phone. The hyphens are part of the password."""
    text = base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").lower()
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def _require_mailbox_scope(acting_user, mailbox: Mailbox) -> None:
    """An admin acts only on mailboxes of their domains; a mail user only on their own."""
    if acting_user is None or getattr(acting_user, "is_superadmin", False):
        return
    if isinstance(acting_user, MailUserActor):
        if acting_user.audit_label == mailbox.address:
            return
    elif acting_user.can_manage_domain(mailbox.domain_id):
        return
    raise PermissionDenied(_("You may not change this mailbox."))


@dataclass(frozen=True)
class CreatedAppPassword:
    app_password: AppPassword
    secret: str       # shown once, never stored


@transaction.atomic
def app_password_create(*, mailbox: Mailbox, name: str, protocols: list[str] | tuple[str, ...] = (),
                        acting_user) -> CreatedAppPassword:
    """Create an app password for `mailbox`, usable at once for the `protocols` given
    (AppPassword.Protocol values; empty = all three). Returns it with its secret, which the
    caller shows once: only its SHA-256 is stored. Raises ValidationError (codes
    app_password_limit, protocol_unknown, and the model's) and PermissionDenied."""
    _require_mailbox_scope(acting_user, mailbox)
    mailbox = Mailbox.objects.select_for_update().select_related("domain").get(pk=mailbox.pk)
    known = set(AppPassword.Protocol.values)
    unknown = [p for p in protocols if p not in known]
    if unknown:
        raise _field_error("protocols", _("Unknown protocol: %(name)s.") % {"name": ", ".join(unknown)},
                           "protocol_unknown")
    if mailbox.app_passwords.filter(revoked__isnull=True).count() >= MAX_ACTIVE_APP_PASSWORDS:
        raise _field_error("name", _("A mailbox has at most %(max)d app passwords: revoke one first.")
                           % {"max": MAX_ACTIVE_APP_PASSWORDS}, "app_password_limit")
    secret = new_secret()
    app_password = AppPassword(mailbox=mailbox, name=(name or "").strip(), secret_sha256=secret_sha256(secret),
                               protocols=sorted(set(protocols)), created_by=actor_label_for(acting_user))
    app_password.full_clean()
    app_password.save()
    # Name and protocols only: neither the secret nor its hash enters the log.
    audit_record(actor=acting_user, action="apppassword.create", object_type="apppassword",
                 object_repr=mailbox.address, domain_name=mailbox.domain.name,
                 after={"name": app_password.name, "protocols": app_password.protocols})
    return CreatedAppPassword(app_password, secret)


@transaction.atomic
def app_password_revoke(*, app_password: AppPassword, acting_user) -> AppPassword:
    """Revoke an app password: Dovecot refuses it from the next login on (with Dovecot's auth
    cache on, the mailbox's cached entries are flushed after commit). Revoking twice is a no-op."""
    app_password = AppPassword.objects.select_for_update().select_related("mailbox__domain").get(pk=app_password.pk)
    _require_mailbox_scope(acting_user, app_password.mailbox)
    if app_password.revoked is not None:
        return app_password
    app_password.revoked = timezone.now()
    app_password.save(update_fields=["revoked"])
    mailbox = app_password.mailbox
    audit_record(actor=acting_user, action="apppassword.revoke", object_type="apppassword",
                 object_repr=mailbox.address, domain_name=mailbox.domain.name,
                 before={"name": app_password.name})
    address = mailbox.address
    transaction.on_commit(lambda: flush_auth_cache(address))
    return app_password


def _grantable_domain(ascii_domain: str) -> Domain | None:
    """The panel's domain that `ascii_domain` is, or is an approved alias domain of; None for a
    name this server does not hold. SECURITY: an alias domain a domain admin merely requested
    (say gmail.com) is no name of theirs until a superadmin approves it.

    The row is locked until the caller's transaction ends: a concurrent delete of the domain or
    of one of its addresses, or a superadmin's withdrawing the alias domain's approval, each of
    which withdraws the grants naming it, then waits for the new grant, or the grant for it."""
    domain = Domain.objects.select_for_update().filter(name=ascii_domain).first()
    if domain is not None:
        return domain
    alias_domain = (AliasDomain.objects.select_for_update(of=("self",)).select_related("target")
                    .filter(name=ascii_domain, approved=True).first())
    return alias_domain.target if alias_domain else None


def check_grant_scope(acting_user, address: str) -> None:
    """Raise ValidationError (code sender_outside_scope) unless `acting_user` may let a mailbox
    send as `address` (normalized). A superadmin (or the CLI) may name any address, also of
    another server: the name then enters smtpd_sender_login_maps, a routing decision. A domain
    admin may name only addresses of the domains they manage, or of those domains' alias
    domains, so a domain admin cannot let a mailbox send as another customer's or an outside
    address (e.g. someone@gmail.com) through this server."""
    if decides_routing(acting_user):
        return
    domain = _grantable_domain(address.rpartition("@")[2])
    if domain is None or not acting_user.can_manage_domain(domain.pk):
        raise _field_error("address", _("You may grant only addresses of the domains you manage; "
                                        "%(address)s is not one. Ask a superadmin.")
                           % {"address": address_display(address)}, "sender_outside_scope")


@transaction.atomic
def sender_grant_create(*, mailbox: Mailbox, address: str, acting_user) -> SenderGrant:
    """Let `mailbox` send as `address` (smtpd_sender_login_maps answers it at once). Raises
    ValidationError (codes address_invalid and the like from normalize_address,
    sender_outside_scope, sender_is_self, sender_grant_limit, unique) and PermissionDenied."""
    _require_mailbox_scope(acting_user, mailbox)
    if isinstance(acting_user, MailUserActor):
        raise PermissionDenied(_("Only an administrator may grant send-as rights."))
    try:
        address = normalize_address(address)
    except ValidationError as exc:
        raise ValidationError({"address": exc.error_list}) from None
    check_grant_scope(acting_user, address)
    mailbox = Mailbox.objects.select_for_update().select_related("domain").get(pk=mailbox.pk)
    if address == mailbox.address:
        raise _field_error("address", _("A mailbox always sends as its own address."), "sender_is_self")
    if mailbox.sender_grants.count() >= MAX_SENDER_GRANTS:
        raise _field_error("address", _("A mailbox has at most %(max)d send-as grants.")
                           % {"max": MAX_SENDER_GRANTS}, "sender_grant_limit")
    grant = SenderGrant(mailbox=mailbox, address=address, created_by=actor_label_for(acting_user))
    grant.full_clean()
    try:
        with transaction.atomic():
            grant.save()
    except IntegrityError:   # the same grant, created concurrently
        raise _field_error("address", _("This mailbox may already send as this address."), "unique") from None
    audit_record(actor=acting_user, action="sendergrant.create", object_type="sendergrant",
                 object_repr=mailbox.address, domain_name=mailbox.domain.name, after={"address": address})
    return grant


@transaction.atomic
def sender_grant_delete(*, grant: SenderGrant, acting_user) -> None:
    """Withdraw a send-as grant. An admin of the mailbox may withdraw any grant it holds, also one
    a superadmin made: taking a right away never widens anyone's reach."""
    grant = SenderGrant.objects.select_for_update().select_related("mailbox__domain").get(pk=grant.pk)
    _require_mailbox_scope(acting_user, grant.mailbox)
    if isinstance(acting_user, MailUserActor):
        raise PermissionDenied(_("Only an administrator may withdraw send-as rights."))
    mailbox = grant.mailbox
    audit_record(actor=acting_user, action="sendergrant.delete", object_type="sendergrant",
                 object_repr=mailbox.address, domain_name=mailbox.domain.name, before={"address": grant.address})
    grant.delete()


# --- when the addresses a grant names go away or move ---------------------------------------
# A grant names an address, not a row: once that address is deleted, it can be given to someone
# else, who must not find another mailbox already allowed to send as them. The domains services
# call these inside their own transaction (deletes and renames), and record what changed.

def _alias_domain_forms(addresses: list[str]) -> list[str]:
    """Each address also as name@alias-domain of its domain (what sender_login_maps matches)."""
    forms = list(addresses)
    for address in addresses:
        local, _at, domain = address.rpartition("@")
        names = AliasDomain.objects.filter(target__name=domain).values_list("name", flat=True)
        forms += [f"{local}@{name}" for name in names]
    return forms


def sender_grants_withdraw_for(*, addresses: list[str] = (), domain_names: list[str] = (), acting_user) -> list[str]:
    """Delete the grants naming `addresses` (and their alias-domain forms) or any address of
    `domain_names`; audit each; return them as "mailbox → address" for the caller's record."""
    from django.db.models import Q

    query = Q(address__in=_alias_domain_forms(list(addresses))) if addresses else Q(pk__in=[])
    for name in domain_names:
        query |= Q(address__endswith="@" + name)
    withdrawn = []
    for grant in SenderGrant.objects.select_for_update().select_related("mailbox__domain").filter(query):
        audit_record(actor=acting_user, action="sendergrant.delete", object_type="sendergrant",
                     object_repr=grant.mailbox.address, domain_name=grant.mailbox.domain.name,
                     before={"address": grant.address})
        withdrawn.append(f"{grant.mailbox.address} → {grant.address}")
        grant.delete()
    return withdrawn


def sender_grants_follow_rename(*, old: str, new: str, acting_user) -> list[str]:
    """A renamed mailbox: the grants naming its old address (or an alias-domain form of it) name
    the new one, as the aliases that named it do. Returns "mailbox → new address" per grant."""
    old_local, new_local = old.rpartition("@")[0], new.rpartition("@")[0]
    moved = []
    for old_form in _alias_domain_forms([old]):
        new_form = new_local + old_form[len(old_local):]
        for grant in SenderGrant.objects.select_for_update().select_related("mailbox__domain").filter(address=old_form):
            if grant.mailbox.address == new or SenderGrant.objects.filter(mailbox=grant.mailbox,
                                                                          address=new_form).exists():
                grant.delete()   # now its own address, or already granted
            else:
                grant.address = new_form
                grant.save(update_fields=["address"])
            audit_record(actor=acting_user, action="sendergrant.update", object_type="sendergrant",
                         object_repr=grant.mailbox.address, domain_name=grant.mailbox.domain.name,
                         before={"address": old_form}, after={"address": new_form})
            moved.append(f"{grant.mailbox.address} → {new_form}")
    return moved
