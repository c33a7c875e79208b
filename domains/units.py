"""Sizes with units, as admins type them: 500M, 2G, 1.5T, or bytes without a unit."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Binary multiples, as Dovecot reads quota rules (1M = 1024 * 1024 bytes).
_MULTIPLIERS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
MAX_SIZE = 2**63 - 1


def parse_size(value: str | int) -> int:
    """Bytes from '500M', '2G', '1.5T', '1048576'; 0 means unlimited."""
    if isinstance(value, int):
        if value < 0:
            raise ValidationError(_("A size cannot be negative."), code="size_negative")
        return value
    match = _SIZE_RE.match(value or "")
    if not match:
        raise ValidationError(
            _("“%(value)s” is not a size: write a number with an optional unit K, M, G or T "
              "(e.g. 500M, 2G); 0 means unlimited."),
            code="size_invalid",
            params={"value": value},
        )
    number, unit = match.groups()
    try:
        size = int(Decimal(number.replace(",", ".")) * _MULTIPLIERS[unit.upper()])
    except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees a number
        raise ValidationError(_("“%(value)s” is not a size."), code="size_invalid",
                              params={"value": value}) from exc
    if size > MAX_SIZE:
        raise ValidationError(_("“%(value)s” is too large."), code="size_too_large",
                              params={"value": value})
    return size


def format_size(size: int | None) -> str:
    """Shortest exact-ish human form: 524288000 -> '500M'; 0 -> '0' (unlimited)."""
    if not size:
        return "0"
    for unit in ("T", "G", "M", "K"):
        factor = _MULTIPLIERS[unit]
        if size >= factor:
            value = size / factor
            if value == int(value):
                return f"{int(value)}{unit}"
            return f"{value:.1f}{unit}"
    return str(size)
