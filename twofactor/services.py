"""TOTP enrolment, backup codes and verification for admins (django-otp devices)."""
from __future__ import annotations

from base64 import b32encode
from binascii import unhexlify

import segno
from django.db import transaction
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


@transaction.atomic
def totp_start_enrolment(*, admin: Admin) -> TOTPDevice:
    """A fresh unconfirmed device (any earlier unconfirmed one is discarded)."""
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
    """Confirm enrolment with a code from the app; returns new backup codes, or None if wrong."""
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
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


def verify_any(*, admin: Admin, token: str):
    """The device that accepts `token` (TOTP first, then a one-time backup code), or None.

    Each device throttles failures itself (django-otp: exponential delays)."""
    token = (token or "").strip().replace(" ", "")
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


@transaction.atomic
def two_factor_disable(*, admin: Admin, acting_user) -> None:
    TOTPDevice.objects.filter(user=admin).delete()
    StaticDevice.objects.filter(user=admin).delete()
    audit_record(actor=acting_user, action="twofactor.disable", obj=admin, object_type="admin")
