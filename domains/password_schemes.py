"""Verify a password against a stored hash exactly as Dovecot's passdb does: the pure core.

The panel must accept the same set of schemes Dovecot verifies (issue 14): a mailbox imported
from another panel logs in to Dovecot, so it logs in to /me/ too. The schemes are the ones
`doveadm pw -l` lists; their formats are Dovecot's ("Password schemes" in the Dovecot docs,
src/auth/password-scheme*.c):

    {SCHEME}body, SCHEME case-insensitive, optionally SCHEME.HEX / SCHEME.B64 for the body's
    encoding. A hash without a {SCHEME} prefix uses the passdb's default_pass_scheme (ARGON2ID
    in our Dovecot configuration): a bare crypt string ($6$…) matches no password, in Dovecot
    as here.

Libraries do the cryptography: libpass (the crypt(3) family; the C library's crypt(3) for the
formats libpass lacks, such as yescrypt), argon2-cffi (ARGON2I/ARGON2ID),
hashlib/hmac (raw digests, PBKDF2, SCRAM), OpenSSL's MD5 through ctypes for the CRAM-MD5
context (no Python library exposes MD5's intermediate state). What is ours is only Dovecot's
framing of each scheme.

The lists for Dovecot 2.3 and 2.4, and the hashes no password can match: docs/password-schemes.md.
"""
from __future__ import annotations

import base64
import binascii
import ctypes
import ctypes.util
import hashlib
import hmac
import struct
import warnings
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from passlib.crypto.digest import lookup_hash
from passlib.hash import bcrypt, bsdi_crypt, des_crypt, md5_crypt, sha1_crypt, sha256_crypt, sha512_crypt, sun_md5_crypt

DEFAULT_SCHEME = "ARGON2ID"  # default_pass_scheme in the Dovecot configuration we generate


class UnverifiableHash(Exception):
    """The stored hash is in an unknown scheme or malformed: no password can match it.
    Not a wrong password (Dovecot logs it as a passdb error, not a mismatch)."""


def _md4(data: bytes) -> bytes:
    return lookup_hash("md4").const(data).digest()  # libpass's MD4: OpenSSL 3 dropped it


_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "md5": lambda d: hashlib.md5(d).digest(), "sha1": lambda d: hashlib.sha1(d).digest(),
    "sha256": lambda d: hashlib.sha256(d).digest(), "sha512": lambda d: hashlib.sha512(d).digest(),
    "md4": _md4,
}


def _decode(body: str, encoding: str | None, default: str, raw_len: int = 0) -> bytes:
    """The raw bytes of a hash body, as Dovecot's password_decode(): an explicit .HEX/.B64
    suffix wins; a fixed-size digest is recognised by its length; else the scheme's default."""
    if encoding is None:
        encoding = default
        if raw_len and len(body) == raw_len * 2:
            encoding = "HEX"
        elif raw_len and len(body) == 4 * ((raw_len + 2) // 3):
            encoding = "B64"
    try:
        raw = bytes.fromhex(body) if encoding == "HEX" else base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise UnverifiableHash("body is not " + encoding) from exc
    if raw_len and len(raw) != raw_len:
        raise UnverifiableHash("wrong length")
    return raw


def _digest_scheme(algo: str, default_encoding: str):
    def verify(body: str, password: bytes, encoding: str | None, user: str) -> bool:
        expected = _DIGESTS[algo](password)
        return hmac.compare_digest(_decode(body, encoding, default_encoding, len(expected)), expected)
    return verify


def _salted_scheme(algo: str):
    """SSHA, SSHA256, SSHA512, SMD5: base64(digest(password + salt) + salt), any salt length."""
    def verify(body: str, password: bytes, encoding: str | None, user: str) -> bool:
        raw = _decode(body, encoding, "B64")
        size = len(_DIGESTS[algo](b""))
        if len(raw) <= size:
            raise UnverifiableHash("no salt")
        digest, salt = raw[:size], raw[size:]
        return hmac.compare_digest(_DIGESTS[algo](password + salt), digest)
    return verify


_CRYPT_HANDLERS = (("$1$", md5_crypt), ("$5$", sha256_crypt), ("$6$", sha512_crypt), ("$2y$", bcrypt),
                   ("$2b$", bcrypt), ("$2a$", bcrypt), ("$sha1$", sha1_crypt), ("$md5", sun_md5_crypt),
                   ("_", bsdi_crypt))


def _crypt(body: str, password: bytes, encoding: str | None = None, user: str = "") -> bool:
    """crypt(3) as Debian's libxcrypt reads it, through libpass, for the formats libpass knows."""
    handler = next((h for prefix, h in _CRYPT_HANDLERS if body.startswith(prefix)), None)
    if handler is None and len(body) == 13:
        handler = des_crypt
    if handler is None:
        return _system_crypt(body, password)
    try:
        return handler.verify(password, body)
    except (ValueError, TypeError) as exc:
        raise UnverifiableHash("malformed crypt string") from exc


def _system_crypt(body: str, password: bytes) -> bool:
    """The formats libpass lacks (yescrypt $y$, Debian's /etc/shadow default; gost-yescrypt $gy$;
    scrypt $7$), through the C library's crypt(3) (libxcrypt), the very function Dovecot calls.
    Python 3.11's crypt module; crypt_r (PyPI) is its drop-in successor from Python 3.13."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    try:
        result = crypt.crypt(password.decode("utf-8"), body)
    except (OSError, ValueError) as exc:
        raise UnverifiableHash("crypt(3) refused the hash") from exc
    if not result or result.startswith("*"):  # "*0"/"*1": libxcrypt's answer to an unknown setting
        raise UnverifiableHash("crypt format not supported")
    return hmac.compare_digest(result.encode(), body.encode())


def _only(handler):
    def verify(body: str, password: bytes, encoding: str | None, user: str) -> bool:
        try:
            return handler.verify(password, body)
        except (ValueError, TypeError) as exc:
            raise UnverifiableHash("malformed hash") from exc
    return verify


def _md5(body: str, password: bytes, encoding: str | None, user: str) -> bool:
    """Dovecot's MD5 is MD5-CRYPT, or a plain MD5 digest when the body is not a $1$ string."""
    if body.startswith("$1$"):
        return _crypt(body, password)
    return _digest_scheme("md5", "HEX")(body, password, encoding, user)


def _argon2(*kinds: str):
    def verify(body: str, password: bytes, encoding: str | None, user: str) -> bool:
        if not body.startswith(tuple(f"${kind}$" for kind in kinds)):
            raise UnverifiableHash("not an " + "/".join(kinds) + " hash")
        try:
            return PasswordHasher().verify(body, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError) as exc:
            raise UnverifiableHash("malformed argon2 hash") from exc
    return verify


def _plain(body: str, password: bytes, encoding: str | None, user: str) -> bool:
    stored = _decode(body, encoding, "") if encoding else body.encode()
    return hmac.compare_digest(stored, password)


def _plain_trunc(body: str, password: bytes, encoding: str | None, user: str) -> bool:
    """<length>-<password>: the password may have been truncated to length bytes."""
    length, dash, stored = body.partition("-")
    if not dash or not length.isdigit() or not length.isascii():
        raise UnverifiableHash("PLAIN-TRUNC is <length>-<password>")
    stored_bytes, n = stored.encode(), int(length)
    if len(stored_bytes) == n and len(password) >= n:
        return hmac.compare_digest(stored_bytes, password[:n])
    return hmac.compare_digest(stored_bytes, password)


def _pbkdf2(body: str, password: bytes, encoding: str | None, user: str) -> bool:
    """$1$salt$rounds$hex: PBKDF2-HMAC-SHA1, 20 bytes."""
    parts = body.split("$")
    if len(parts) != 5 or parts[1] != "1" or not parts[3].isdigit():
        raise UnverifiableHash("PBKDF2 is $1$salt$rounds$hex")
    try:
        expected = bytes.fromhex(parts[4])
    except ValueError as exc:
        raise UnverifiableHash("PBKDF2 digest is not hex") from exc
    return hmac.compare_digest(hashlib.pbkdf2_hmac("sha1", password, parts[2].encode(), int(parts[3]), 20), expected)


def _scram(algo: str):
    """iterations,salt,StoredKey,ServerKey (base64), RFC 5802 / RFC 7677."""
    def verify(body: str, password: bytes, encoding: str | None, user: str) -> bool:
        try:
            iterations, salt, stored_key, _server_key = body.split(",")
            salt, stored_key = base64.b64decode(salt, validate=True), base64.b64decode(stored_key, validate=True)
            iterations = int(iterations)
        except (ValueError, binascii.Error) as exc:
            raise UnverifiableHash("SCRAM is iterations,salt,StoredKey,ServerKey") from exc
        salted = hashlib.pbkdf2_hmac(algo, password, salt, iterations)
        client_key = hmac.new(salted, b"Client Key", algo).digest()
        return hmac.compare_digest(hashlib.new(algo, client_key).digest(), stored_key)
    return verify


class _MD5_CTX(ctypes.Structure):  # OpenSSL's MD5_CTX (openssl/md5.h)
    _fields_ = [("A", ctypes.c_uint32), ("B", ctypes.c_uint32), ("C", ctypes.c_uint32), ("D", ctypes.c_uint32),
                ("Nl", ctypes.c_uint32), ("Nh", ctypes.c_uint32), ("data", ctypes.c_uint32 * 16),
                ("num", ctypes.c_uint)]


def _md5_state_after(block: bytes) -> bytes:
    libcrypto = ctypes.CDLL(ctypes.util.find_library("crypto"))
    ctx = _MD5_CTX()
    libcrypto.MD5_Init(ctypes.byref(ctx))
    libcrypto.MD5_Update(ctypes.byref(ctx), block, ctypes.c_size_t(64))
    return struct.pack("<4I", ctx.A, ctx.B, ctx.C, ctx.D)


def _cram_md5(body: str, password: bytes, encoding: str | None, user: str) -> bool:
    """CRAM-MD5 / HMAC-MD5: the HMAC-MD5 outer and inner MD5 states after the padded key
    (RFC 2195 implementations store this; Dovecot's hmac_md5_get_cram_context)."""
    stored = _decode(body, encoding, "HEX", 32)
    key = (password if len(password) <= 64 else hashlib.md5(password).digest()).ljust(64, b"\0")
    context = _md5_state_after(bytes(b ^ 0x5C for b in key)) + _md5_state_after(bytes(b ^ 0x36 for b in key))
    return hmac.compare_digest(context, stored)


def _digest_md5(body: str, password: bytes, encoding: str | None, user: str) -> bool:
    """MD5("user:realm:password") in hex, the user split at its last @ (RFC 2831)."""
    name, _at, realm = user.rpartition("@") if "@" in user else (user, "", "")
    expected = hashlib.md5(f"{name}:{realm}:".encode() + password).digest()
    return hmac.compare_digest(_decode(body, encoding, "HEX", 16), expected)


def _otp_fold(algo: str, digest: bytes) -> bytes:
    if algo == "sha1":  # RFC 2289 appendix A: fold the five words, little-endian output
        w = list(struct.unpack(">5I", digest))
        return struct.pack("<2I", w[0] ^ w[2] ^ w[4], w[1] ^ w[3])
    return bytes(a ^ b for a, b in zip(digest[:8], digest[8:16]))


def _otp(body: str, password: bytes, encoding: str | None, user: str) -> bool:
    """RFC 2289 one-time-password state "algo seq seed hex": Dovecot checks the plaintext
    password by computing the same state from it."""
    try:
        algo, seq, seed, expected = body.split()
        seq, expected = int(seq), bytes.fromhex(expected)
    except ValueError as exc:
        raise UnverifiableHash("OTP is algo seq seed hex") from exc
    if algo not in ("md4", "md5", "sha1"):
        raise UnverifiableHash("unknown OTP algorithm")
    value = _otp_fold(algo, _DIGESTS[algo](seed.encode() + password))
    for _ in range(seq):
        value = _otp_fold(algo, _DIGESTS[algo](value))
    return hmac.compare_digest(value, expected)


# Every scheme `doveadm pw -l` lists on Debian 12 (Dovecot 2.3.19), with how it is verified.
SCHEMES: dict[str, Callable[[str, bytes, str | None, str], bool]] = {
    "ARGON2I": _argon2("argon2i"), "ARGON2ID": _argon2("argon2id"),
    # Dovecot 2.4 also lists ARGON2: either kind, as the hash says.
    "ARGON2": _argon2("argon2i", "argon2id"),
    "BLF-CRYPT": _only(bcrypt), "SHA256-CRYPT": _only(sha256_crypt), "SHA512-CRYPT": _only(sha512_crypt),
    "MD5-CRYPT": _only(md5_crypt), "DES-CRYPT": _only(des_crypt), "CRYPT": _crypt, "MD5": _md5,
    "PLAIN": _plain, "CLEAR": _plain, "CLEARTEXT": _plain, "PLAIN-TRUNC": _plain_trunc,
    "PLAIN-MD4": _digest_scheme("md4", "HEX"), "PLAIN-MD5": _digest_scheme("md5", "HEX"),
    "LDAP-MD5": _digest_scheme("md5", "B64"),
    "SHA": _digest_scheme("sha1", "B64"), "SHA1": _digest_scheme("sha1", "B64"),
    "SHA256": _digest_scheme("sha256", "B64"), "SHA512": _digest_scheme("sha512", "B64"),
    "SMD5": _salted_scheme("md5"), "SSHA": _salted_scheme("sha1"),
    "SSHA256": _salted_scheme("sha256"), "SSHA512": _salted_scheme("sha512"),
    "PBKDF2": _pbkdf2, "SCRAM-SHA-1": _scram("sha1"), "SCRAM-SHA-256": _scram("sha256"),
    "CRAM-MD5": _cram_md5, "HMAC-MD5": _cram_md5, "DIGEST-MD5": _digest_md5, "OTP": _otp,
}


def split_scheme(stored: str) -> tuple[str, str | None, str]:
    """(SCHEME, encoding or None, body) of a stored hash; no prefix means default_pass_scheme."""
    if stored.startswith("{") and "}" in stored:
        scheme, _brace, body = stored[1:].partition("}")
        scheme = scheme.upper()
        encoding = None
        for suffix, name in ((".HEX", "HEX"), (".B64", "B64"), (".BASE64", "B64")):
            if scheme.endswith(suffix):
                scheme, encoding = scheme[: -len(suffix)], name
        return scheme, encoding, body
    # No prefix: default_pass_scheme, as Dovecot's SQL passdb reads it. A bare crypt string
    # ($6$…) is therefore refused, by Dovecot (tests/accounts/test_password_schemes_passdb.py)
    # and so by the panel.
    return DEFAULT_SCHEME, None, stored


def scheme_of(stored: str) -> str:
    return split_scheme(stored)[0]


def verify(stored: str, password: str, *, user: str) -> bool:
    """Whether `password` matches `stored` as Dovecot would check it for login `user` (the
    full address; DIGEST-MD5 hashes depend on it). The password is UTF-8, as Dovecot gets it.
    Raises UnverifiableHash when no password can match (unknown scheme, malformed hash)."""
    scheme, encoding, body = split_scheme(stored or "")
    check = SCHEMES.get(scheme)
    if check is None:
        raise UnverifiableHash(f"unknown scheme {scheme}")
    return check(body, password.encode("utf-8"), encoding, user)
