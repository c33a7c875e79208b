"""Admin passwords hashed by another panel: verified as Dovecot verifies them, replaced at login.

Postfixadmin hashes its admins' passwords with the same `pacrypt()` as its mailboxes
(`$CONF['encrypt']`: `php_crypt` SHA512-CRYPT by default, `md5crypt`, `dovecot:SCHEME`, ...),
none of them a Django hasher. An imported admin's hash is stored as `dovecot$` + the hash in
its Dovecot form (`{SHA512-CRYPT}$6$...`, pfimport/hashes.py), and this hasher checks it with
domains.password_schemes, the same core that verifies imported mailbox passwords. It never makes
new hashes: listed after Django's Argon2 hasher in PASSWORD_HASHERS, a successful login re-hashes
the password with Argon2 (Django's "password upgrading", docs.djangoproject.com, "Password
management in Django").
"""
from __future__ import annotations

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _noop

from domains import password_schemes

ALGORITHM = "dovecot"
# DIGEST-MD5 hashes the login name with the password: not an admin's, who logs in by username
# or e-mail address alike. The other schemes verify from the hash and password alone.
_NEEDS_USER = {"DIGEST-MD5"}


def dovecot_encoded(stored: str) -> str:
    """The Django password field value for a hash in Dovecot form (`{SCHEME}body`)."""
    return f"{ALGORITHM}${stored}"


def login_can_verify(stored: str) -> bool:
    """Whether an admin could log in with a hash in Dovecot form: a scheme this hasher checks
    and a well-formed body. (It tries the empty password: the answer, not the result, tells.)"""
    if password_schemes.scheme_of(stored) in _NEEDS_USER:
        return False
    try:
        password_schemes.verify(stored, "", user="")
    except password_schemes.UnverifiableHash:
        return False
    return True


class DovecotSchemeHasher(BasePasswordHasher):
    algorithm = ALGORITHM

    def verify(self, password: str, encoded: str) -> bool:
        stored = self.decode(encoded)["hash"]
        if password_schemes.scheme_of(stored) in _NEEDS_USER:
            return False
        try:
            return password_schemes.verify(stored, password, user="")
        except password_schemes.UnverifiableHash:
            return False

    def encode(self, password: str, salt: str) -> str:
        raise NotImplementedError("imported hashes only: new passwords use Django's first hasher")

    def decode(self, encoded: str) -> dict:
        algorithm, _dollar, stored = encoded.partition("$")
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": stored, "salt": None}

    def safe_summary(self, encoded: str) -> dict:
        stored = self.decode(encoded)["hash"]
        return {_noop("algorithm"): self.algorithm, _noop("scheme"): password_schemes.scheme_of(stored),
                _noop("hash"): mask_hash(stored)}

    def must_update(self, encoded: str) -> bool:
        return True
