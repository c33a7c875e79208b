"""Writes to admin accounts; audited like every other change."""
from __future__ import annotations

from typing import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record, snapshot
from domains.http import PAGE_SIZES
from domains.models import Domain

from .hashers import dovecot_encoded
from .models import Admin
from .sessions import end_admin_sessions


def _save(admin: Admin) -> None:
    """Save; when a concurrent request took the username or e-mail address since the checks
    ran, report it as the same specific error the checks give, not as a server error."""
    try:
        with transaction.atomic():
            admin.save()
    except IntegrityError:
        admin.full_clean(exclude=["password"])  # now sees the other row and says which field
        raise


@transaction.atomic
def admin_create(*, username: str, password: str | None, acting_user, email: str = "",
                 role: str = Admin.Role.DOMAIN_ADMIN, domains: Iterable[Domain] = (),
                 validate: bool = True, password_hash: str | None = None) -> Admin:
    """Create an admin. `password_hash` (instead of `password`) keeps a hash made by another
    panel, with its Dovecot scheme prefix, for the login to verify through
    accounts.hashers.DovecotSchemeHasher (re-hashed with Django's first hasher at the first
    login); None and no password make an admin who cannot log in until given one."""
    admin = Admin(username=username.strip(), email=email.strip(), role=role,
                  is_staff=False, is_superuser=False)
    admin.full_clean(exclude=["password"])
    if validate and password_hash is None:
        try:
            validate_password(password, admin)
        except ValidationError as exc:
            raise ValidationError({"password": exc.error_list}) from None
    if password_hash is not None:
        admin.password = dovecot_encoded(password_hash)
    else:
        admin.set_password(password)
    _save(admin)
    if role == Admin.Role.DOMAIN_ADMIN:
        admin.domains.set(domains)
    audit_record(actor=acting_user, action="admin.create", obj=admin,
                 after=snapshot(admin, exclude=("last_login", "session_version")) | {"domains": [d.name for d in admin.domains.all()]})
    return admin


@transaction.atomic
def admin_set_password(*, admin: Admin, password: str, acting_user, validate: bool = True) -> Admin:
    if validate:
        try:
            validate_password(password, admin)
        except ValidationError as exc:
            raise ValidationError({"password": exc.error_list}) from None
    admin.set_password(password)
    admin.save(update_fields=["password"])
    audit_record(actor=acting_user, action="admin.password", obj=admin)
    return admin


def _admin_snapshot(admin: Admin) -> dict:
    return snapshot(admin, exclude=("last_login", "session_version")) | {"domains": sorted(d.name for d in admin.domains.all())}


# Any fixed 64-bit number: the key of the advisory lock that serializes superadmin losses.
_SUPERADMIN_CHANGES_LOCK = 0x6D61_696C_6164_6D01


def _lock_active_superadmins() -> list[int]:
    """Serialize every change that could remove an active superadmin, then list them.

    One transaction-scoped advisory lock rather than row locks on the superadmins: row locks
    taken by a filtered SELECT FOR UPDATE can be re-evaluated and skipped as rows change under
    concurrent demotions, which let PostgreSQL report deadlocks. Admin changes are rare, so
    queueing them all behind one lock costs nothing measurable.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SUPERADMIN_CHANGES_LOCK])
    return list(Admin.objects.filter(role=Admin.Role.SUPERADMIN, is_active=True)
                .order_by("pk").values_list("pk", flat=True))


def _check_superadmins_remain(*, losing: Admin, active_superadmins: list[int]) -> None:
    """Refuse a change that would leave no active superadmin (nobody could manage admins)."""
    if not [pk for pk in active_superadmins if pk != losing.pk]:
        raise ValidationError(_("%(u)s is the last active superadmin: make another admin superadmin "
                                "first.") % {"u": losing.get_username()}, code="last_superadmin")


@transaction.atomic
def admin_update(*, admin: Admin, acting_user, role: str | None = None, email: str | None = None,
                 is_active: bool | None = None, domains: Iterable[Domain] | None = None) -> Admin:
    """Change an admin's role, e-mail, active flag or managed domains (superadmins manage all)."""
    active_superadmins = _lock_active_superadmins()
    admin = Admin.objects.select_for_update().get(pk=admin.pk)
    before = _admin_snapshot(admin)
    was_active_superadmin = admin.is_superadmin and admin.is_active
    if role is not None:
        admin.role = role
    if email is not None:
        admin.email = email.strip()
    if is_active is not None:
        admin.is_active = is_active
    if was_active_superadmin and not (admin.is_superadmin and admin.is_active):
        _check_superadmins_remain(losing=admin, active_superadmins=active_superadmins)
    admin.full_clean(exclude=["password"])
    _save(admin)
    if admin.role != before["role"] or admin.is_active != before["is_active"]:
        # SECURITY: a deactivated or demoted admin loses their open sessions now, and a
        # reactivated one does not get the old ones back.
        end_admin_sessions(admin=admin)
    if admin.is_superadmin:
        admin.domains.clear()
    elif domains is not None:
        admin.domains.set(domains)
    audit_record(actor=acting_user, action="admin.update", obj=admin, before=before,
                 after=_admin_snapshot(admin))
    return admin


@transaction.atomic
def admin_delete(*, admin: Admin, acting_user) -> None:
    if isinstance(acting_user, Admin) and acting_user.pk == admin.pk:
        raise ValidationError(_("You cannot delete your own account."), code="admin_delete_self")
    active_superadmins = _lock_active_superadmins()
    admin = Admin.objects.select_for_update().get(pk=admin.pk)
    if admin.is_superadmin and admin.is_active:
        _check_superadmins_remain(losing=admin, active_superadmins=active_superadmins)
    before = _admin_snapshot(admin)
    username = admin.get_username()
    admin.delete()
    audit_record(actor=acting_user, action="admin.delete", object_type="admin", object_repr=username,
                 before=before)


def ensure_superadmin(*, username: str, password: str) -> Admin | None:
    """Create the first superadmin if there is none; None when one already exists."""
    if Admin.objects.filter(role=Admin.Role.SUPERADMIN).exists():
        return None
    if Admin.objects.filter(username=username).exists():
        raise ValidationError(_("An account named %(u)s exists but is not a superadmin.") % {"u": username})
    return admin_create(username=username, password=password, role=Admin.Role.SUPERADMIN,
                        acting_user=None, validate=False)


def admin_set_list_page_size(*, admin: Admin, size: int) -> Admin:
    """Remember how many rows per page `admin` wants on every list (one of domains.http.PAGE_SIZES).
    A display preference of the admin's own: not an access change, so not audited."""
    if size not in PAGE_SIZES:
        raise ValidationError({"size": ValidationError(_("Choose 25, 50 or 100 rows per page."),
                                                       code="page_size_invalid")})
    Admin.objects.filter(pk=admin.pk).update(list_page_size=size)
    admin.list_page_size = size
    return admin
