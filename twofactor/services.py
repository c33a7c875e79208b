"""TOTP enrolment, backup codes and verification for admins (django-otp devices)."""
from __future__ import annotations

from base64 import b32encode
from binascii import unhexlify

import segno
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Admin
from audit.services import audit_record

BACKUP_CODES = 10
ISSUER = "mailadmin"


def confirmed_totp(admin: Admin) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=admin, confirmed=True).first()


def has_two_factor(admin: Admin) -> bool:
    return TOTPDevice.objects.filter(user=admin, confirmed=True).exists()


def _lock_admin(admin: Admin) -> None:
    """Serialize the two-factor changes of one admin (enrolment racing enrolment or disabling)."""
    Admin.objects.select_for_update().filter(pk=admin.pk).first()


def _refuse_if_enrolled(admin: Admin) -> None:
    # SECURITY: enrolment never replaces a confirmed device. Otherwise whoever holds the
    # password alone could swap the owner's authenticator for their own; replacing one
    # takes turning two-factor off first, which asks for a current code.
    if has_two_factor(admin):
        raise ValidationError(_("Two-factor authentication is already on: turn it off first, with a current "
                                "code, to set up another authenticator."), code="already_enrolled")


@transaction.atomic
def totp_start_enrolment(*, admin: Admin) -> TOTPDevice:
    """A fresh unconfirmed device (any earlier unconfirmed one is discarded).

    Raises ValidationError (code "already_enrolled") when the admin has a confirmed device."""
    _lock_admin(admin)
    _refuse_if_enrolled(admin)
    TOTPDevice.objects.filter(user=admin, confirmed=False).delete()
    return TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=False)


def provisioning(device: TOTPDevice) -> dict[str, str]:
    """The secret in base32 for typing, and the otpauth:// URI as an SVG QR code (no external service)."""
    secret = b32encode(unhexlify(device.key)).decode().rstrip("=")
    uri = (f"otpauth://totp/{ISSUER}:{device.user.get_username()}?secret={secret}&issuer={ISSUER}"
           f"&digits={device.digits}&period={device.step}")
    qr = segno.make(uri, error="m")
    return {"secret": secret, "uri": uri, "svg": qr.svg_inline(scale=4, dark="#1b1f24", light="#ffffff")}


@transaction.atomic
def totp_confirm(*, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm enrolment with a code from the app; returns new backup codes, or None if wrong.

    Raises ValidationError (code "already_enrolled") when the admin has a confirmed device."""
    _lock_admin(device.user)
    _refuse_if_enrolled(device.user)
    if not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = regenerate_backup_codes(admin=device.user, audit=False)
    audit_record(actor=device.user, action="twofactor.enable", obj=device.user, object_type="admin")
    return codes


@transaction.atomic
def regenerate_backup_codes(*, admin: Admin, audit: bool = True) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=admin, name="backup codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    if audit:
        audit_record(actor=admin, action="twofactor.backup_codes", obj=admin, object_type="admin")
    return codes


@transaction.atomic
def verify_any(*, admin: Admin, token: str):
    """The device that accepts `token` (TOTP first, then a one-time backup code), or None.

    Each device throttles failures itself (django-otp: exponential delays)."""
    token = (token or "").strip().replace(" ", "")
    # SECURITY: one check at a time per admin, each reading the devices as the previous one
    # left them. django-otp reads a TOTP device's last used step, a backup code and the
    # failure count without a lock, so two requests racing with one code both passed (a
    # backup code used twice, a TOTP code replayed) and racing guesses escaped the throttle.
    _lock_admin(admin)
    totp = confirmed_totp(admin)
    if totp is not None and token.isdigit() and totp.verify_token(token):
        return totp
    static = StaticDevice.objects.filter(user=admin, confirmed=True).first()
    if static is not None and static.verify_token(token):
        return static
    return None


def throttled(admin: Admin) -> bool:
    devices = [d for d in (confirmed_totp(admin), StaticDevice.objects.filter(user=admin).first()) if d]
    return any(not d.verify_is_allowed()[0] for d in devices)


def check_current_code(*, admin: Admin, token: str) -> None:
    """Raise ValidationError unless `token` is a current code of the admin (TOTP or backup code).

    For the changes that must not rest on the password alone (new backup codes, turning
    two-factor off); django-otp's throttling applies, as at login."""
    if throttled(admin):
        raise ValidationError(_("Too many wrong codes: wait a little before trying again."), code="throttled")
    if verify_any(admin=admin, token=token) is None:
        raise ValidationError(_("This code is not valid."), code="invalid_code")


@transaction.atomic
def two_factor_disable(*, admin: Admin, acting_user) -> None:
    TOTPDevice.objects.filter(user=admin).delete()
    StaticDevice.objects.filter(user=admin).delete()
    audit_record(actor=acting_user, action="twofactor.disable", obj=admin, object_type="admin")
