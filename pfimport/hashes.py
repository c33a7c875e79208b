"""Postfixadmin password hashes as Dovecot verifies them: the same hash with its scheme prefix.

Postfixadmin stores what its `$CONF['encrypt']` produced: `php_crypt` and `md5crypt` give bare
crypt(3) strings (`$6$…`, `$1$…`), `dovecot:SCHEME` gives `{SCHEME}…` already, `md5` a bare hex
MD5, `system` DES crypt. Dovecot reads a bare crypt string only with the matching
default_pass_scheme, so each hash gets its scheme prefix (Dovecot's password scheme names,
doc.dovecot.org "Password schemes"); nothing is re-hashed. Pure: no Django, no database.
"""
from __future__ import annotations

import re

# crypt(3) identifiers -> Dovecot scheme (Dovecot's names; BLF-CRYPT covers $2a$/$2b$/$2y$).
_CRYPT_IDS = [
    ("$6$", "SHA512-CRYPT"), ("$5$", "SHA256-CRYPT"), ("$1$", "MD5-CRYPT"),
    ("$2y$", "BLF-CRYPT"), ("$2b$", "BLF-CRYPT"), ("$2a$", "BLF-CRYPT"),
    ("$argon2id$", "ARGON2ID"), ("$argon2i$", "ARGON2I"),
]
_HEX_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_DES_CRYPT = re.compile(r"^[./0-9A-Za-z]{13}$")
_SCHEME_PREFIX = re.compile(r"^\{[A-Z0-9.:-]+\}")


def dovecot_hash(stored: str) -> str | None:
    """The Dovecot form of a stored Postfixadmin hash, or None when the format is not recognised.

    '$6$salt$hash' -> '{SHA512-CRYPT}$6$salt$hash'; '{ARGON2ID}$argon2id$…' unchanged;
    32 hex digits -> '{PLAIN-MD5}…' (Postfixadmin's `md5`); 13 crypt characters -> '{CRYPT}…'."""
    value = (stored or "").strip()
    if not value:
        return None
    if _SCHEME_PREFIX.match(value):
        return value
    for prefix, scheme in _CRYPT_IDS:
        if value.startswith(prefix):
            return "{" + scheme + "}" + value
    if _HEX_MD5.match(value):
        return "{PLAIN-MD5}" + value.lower()
    if _DES_CRYPT.match(value):
        return "{CRYPT}" + value
    return None
