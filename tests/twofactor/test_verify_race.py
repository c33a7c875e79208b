"""A code is good once, even when two requests present it at the same moment.

django-otp marks a TOTP step or a backup code as used without a lock: a second check that
ran while the first was still in its transaction saw the code unused and passed too.
"""
import threading
import time

import pytest
from django.db import connection, transaction
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AdminFactory
from twofactor import services

pytestmark = pytest.mark.django_db(transaction=True)


def _two_checks_at_once(admin, token) -> tuple:
    """Run verify_any twice: the second starts while the first has passed but not committed."""
    first_passed, results = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                results["first"] = services.verify_any(admin=admin, token=token)
                first_passed.set()
                time.sleep(0.5)  # the second check runs now
        finally:
            first_passed.set()
            connection.close()

    def second():
        try:
            first_passed.wait(10)
            results["second"] = services.verify_any(admin=admin, token=token)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results["first"], results["second"]


def test_a_backup_code_passes_once_when_raced():
    admin = AdminFactory()
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    device = StaticDevice.objects.create(user=admin, name="backup codes")
    StaticToken.objects.create(device=device, token="race0001")
    first, second = _two_checks_at_once(admin, "race0001")
    assert first is not None
    assert second is None


def test_a_totp_code_passes_once_when_raced():
    admin = AdminFactory()
    device = TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    # Not the last second of a step: both checks must see the same code as current.
    while time.time() % device.step > device.step - 3:
        time.sleep(0.5)
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"
    first, second = _two_checks_at_once(admin, code)
    assert first is not None
    assert second is None
