"""Sizes (quotas and limits) as admins type and read them: THE parser and formatter.

Every form, the CLI and every message go through here, so that what the panel shows parses
back to exactly the bytes stored (an unchanged field never changes a quota).

Rules (issue 14):
- Units are binary multiples, as Dovecot reads quota rules (1M = 1024 * 1024 bytes;
  Dovecot's doc "Quota configuration": "b, k, M, G, T ... 1024 based"). Both languages'
  spellings are accepted whatever the active language: B/o, K/KB/KiB/Ko/Kio, M/MB/MiB/Mo/Mio,
  G/GB/GiB/Go/Gio, T/TB/TiB/To/Tio, case-insensitive.
- A number without a unit is in `bare_unit` (MiB in the forms, as Postfixadmin users expect;
  the forms show that unit at the field).
- The decimal separator is the active language's (`.` in English, `,` in French; French also
  takes `.`). The language's thousands separator is accepted between groups of three digits
  (`1,000M` is 1000 MiB in English, 1 MiB in French). Anything else ambiguous is refused.
- Only ASCII digits: `٢G` or `２G` are refused, not read as 2G.
- A value that is not zero but rounds to zero bytes is refused; zero, or the word
  "unlimited"/"illimité", is the explicit choice of no limit (stored as 0).
"""
from __future__ import annotations

import re
from decimal import Decimal, ROUND_HALF_UP

from django.core.exceptions import ValidationError
from django.utils.formats import get_format
from django.utils.translation import get_language, gettext, gettext_lazy as _

KIB = 1024
MIB = 1024**2
MAX_SIZE = 2**63 - 1  # PostgreSQL bigint
MAX_LENGTH = 32

# Every spelling people type, in English and French, lower-cased.
UNIT_FACTORS: dict[str, int] = {}
for _factor, _spellings in (
    (1, ("b", "o", "byte", "bytes", "octet", "octets")),
    (KIB, ("k", "kb", "kib", "ko", "kio")),
    (MIB, ("m", "mb", "mib", "mo", "mio")),
    (1024**3, ("g", "gb", "gib", "go", "gio")),
    (1024**4, ("t", "tb", "tib", "to", "tio")),
):
    UNIT_FACTORS.update(dict.fromkeys(_spellings, _factor))
BARE_UNITS = {"B": 1, "K": KIB, "M": MIB, "G": 1024**3, "T": 1024**4}
UNLIMITED_WORDS = frozenset({"unlimited", "illimité", "illimite", "∞"})

# How formatted sizes read: unit suffix per factor, per language (parse accepts all of them).
_SUFFIXES = {
    "en": {1: " B", KIB: "K", MIB: "M", 1024**3: "G", 1024**4: "T"},
    "fr": {1: " o", KIB: " Kio", MIB: " Mio", 1024**3: " Gio", 1024**4: " Tio"},
}
# Units a formatted size may use with decimals (at most two, and only when exact).
_DECIMAL_UNITS = (1024**4, 1024**3, MIB)

_SPACES = " \u00a0\u202f"
_SIZE_RE = re.compile(r"^(?P<number>[0-9][0-9 \u00a0\u202f,.]*)\s*(?P<unit>[a-zé]*)$", re.ASCII | re.IGNORECASE)


def _error(message, code: str, value: str) -> ValidationError:
    return ValidationError(message, code=code, params={"value": value})


def _separators() -> tuple[str, str]:
    """(decimal, thousands) separators of the active language."""
    decimal = get_format("DECIMAL_SEPARATOR")
    thousands = get_format("THOUSAND_SEPARATOR")
    return decimal, thousands


def _read_number(text: str, value: str, decimal: str, thousands: str) -> Decimal:
    """The number in `text` under the language's separators, or ValidationError if ambiguous."""
    decimals = {decimal} | ({"."} if decimal == "," and thousands != "." else set())
    groups = ({thousands} | (set(_SPACES) if thousands in _SPACES else set())) - decimals
    positions = [i for i, c in enumerate(text) if c in decimals]
    integer, fraction = text, ""
    if positions:
        integer, fraction = text[:positions[-1]], text[positions[-1] + 1:]
    parts = re.split("[" + re.escape("".join(groups)) + "]", integer) if groups else [integer]
    grouped_ok = len(parts) == 1 or (1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:]))
    digits = "".join(parts)
    if (len(positions) > 1 or not grouped_ok or not digits.isdigit()
            or (positions and not fraction.isdigit())):
        raise _error(_("“%(value)s” is not a size: write a number, then a unit (e.g. 500M, 2G); "
                       "digits may be grouped by three."), "size_invalid", value)
    return Decimal(digits + ("." + fraction if fraction else ""))


def parse_size(value: str | int, *, bare_unit: str = "M") -> int:
    """Bytes (int >= 0) from what an admin typed: '500M', '2 Go', '1,5 Gio' (French), '1,000M'
    (English), '2048' (= 2048 `bare_unit`), 'unlimited'/'illimité'/'0' (= 0, no limit).

    An int is taken as bytes. Raises ValidationError (codes size_invalid, size_digits,
    size_too_small, size_too_large, size_negative) for anything else."""
    if isinstance(value, int):
        if value < 0:
            raise ValidationError(_("A size cannot be negative."), code="size_negative")
        return value
    text = (value or "").strip()
    if text.lower() in UNLIMITED_WORDS:
        return 0
    if any(c.isdigit() and not c.isascii() for c in text):
        raise _error(_("“%(value)s” is not a size: write the digits 0 to 9."), "size_digits", value)
    if text.startswith("-"):
        raise ValidationError(_("A size cannot be negative."), code="size_negative")
    match = _SIZE_RE.match(text)
    if not match or len(text) > MAX_LENGTH:
        raise _error(_("“%(value)s” is not a size: write a number with a unit, e.g. 500M, 2G, 1.5T "
                       "(or “unlimited”)."), "size_invalid", value)
    unit = match["unit"].lower()
    factor = UNIT_FACTORS.get(unit) if unit else BARE_UNITS[bare_unit]
    if factor is None:
        raise _error(_("“%(value)s” is not a size: the unit may be B, K, M, G or T (o, Ko, Mo, Go, To "
                       "in French; KiB, MiB… also work)."), "size_invalid", value)
    number = _read_number(match["number"].rstrip(_SPACES), value, *_separators())
    size = int((number * factor).to_integral_value(rounding=ROUND_HALF_UP))
    if size == 0 and number != 0:
        raise _error(_("“%(value)s” is less than one byte; write 0 or “unlimited” for no limit."),
                     "size_too_small", value)
    if size > MAX_SIZE:
        raise _error(_("“%(value)s” is too large."), "size_too_large", value)
    return size


def _suffixes() -> dict[int, str]:
    return _SUFFIXES.get((get_language() or "en").split("-")[0], _SUFFIXES["en"])


def format_size(size: int | None) -> str:
    """The exact, readable form of `size` bytes in the active language: 524288000 -> '500M',
    1610612736 -> '1.5G' ('1,5 Gio' in French), 100000000 -> '100000000 B'. Never rounded:
    parse_size(format_size(x)) == x for every x >= 0. 0 -> '0' (use format_quota for limits)."""
    size = size or 0
    suffixes = _suffixes()
    for factor in (1024**4, 1024**3, MIB, KIB):
        if size < factor:
            continue
        if size % factor == 0:
            return f"{size // factor}{suffixes[factor]}"
        if factor in _DECIMAL_UNITS and (size * 100) % factor == 0:
            text = f"{Decimal(size) / factor:f}".rstrip("0")
            return text.replace(".", get_format("DECIMAL_SEPARATOR")) + suffixes[factor]
    return f"{size}{suffixes[1]}" if size else "0"


def format_quota(size: int | None) -> str:
    """format_size for a limit: 0 or None is 'unlimited' (translated), never '0 bytes'."""
    return format_size(size) if size else gettext("unlimited")
