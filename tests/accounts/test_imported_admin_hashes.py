"""Imported admin hashes (accounts/hashers.py): a stored hash that a trivial password opens is
no password at all, so the admin login refuses it and the Postfixadmin import disables its admin."""
import pytest
from django.contrib.auth.hashers import check_password

from accounts.hashers import dovecot_encoded, login_can_verify

# Hashes any password, or the empty one, matches. Dovecot verifies them as stored (a mailbox
# imported with one keeps working there); an admin of the panel must not log in with them.
OPEN_HASHES = [
    "{PLAIN-TRUNC}0-",                               # length 0: every password truncates to ""
    "{PLAIN}",                                       # the empty password
    "{CLEARTEXT}",
    "{PLAIN.B64}",
    "{PLAIN-MD5}d41d8cd98f00b204e9800998ecf8427e",   # MD5("")
]


@pytest.mark.parametrize("stored", OPEN_HASHES)
def test_a_hash_a_trivial_password_opens_is_not_importable_for_an_admin(stored):
    assert not login_can_verify(stored)


@pytest.mark.parametrize("stored", OPEN_HASHES)
def test_the_admin_login_refuses_a_hash_a_trivial_password_opens(stored):
    encoded = dovecot_encoded(stored)
    assert not check_password("", encoded)
    assert not check_password("any password at all", encoded)


def test_a_real_plain_or_crypt_hash_still_logs_in():
    assert login_can_verify("{PLAIN}a long enough passphrase")
    assert check_password("a long enough passphrase", dovecot_encoded("{PLAIN}a long enough passphrase"))
    assert not check_password("wrong", dovecot_encoded("{PLAIN}a long enough passphrase"))
