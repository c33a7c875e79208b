"""Mailbox password hashes in the format Dovecot verifies natively: {ARGON2ID}$argon2id$..."""
from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from django.conf import settings

ARGON2ID_PREFIX = "{ARGON2ID}"


def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.MAILBOX_ARGON2_TIME_COST,
        memory_cost=settings.MAILBOX_ARGON2_MEMORY_KIB,
        parallelism=settings.MAILBOX_ARGON2_PARALLELISM,
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    return ARGON2ID_PREFIX + _hasher().hash(password)


def verify_argon2id(stored: str, password: str) -> bool:
    """True if `password` matches a stored {ARGON2ID} hash; False for any other scheme."""
    if not stored.startswith(ARGON2ID_PREFIX):
        return False
    try:
        return _hasher().verify(stored[len(ARGON2ID_PREFIX):], password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password(length: int = 20) -> str:
    """A random password without look-alike characters, easy to read out once."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "lI1O0o")
    return "".join(secrets.choice(alphabet) for _ in range(length))
