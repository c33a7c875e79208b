"""Query parameters as bounded, validated values: odd input falls back, never reaches SQL.

A page number past PostgreSQL's bigint made OFFSET overflow (a 500); every view reads its
numbers through these helpers instead of int().
"""
from __future__ import annotations

# Far beyond any real list (50 rows a page: 50 million rows), far below bigint.
MAX_PAGE = 1_000_000
# PostgreSQL's integer (the primary keys).
MAX_PK = 2**31 - 1


def bounded_int(value, *, default: int | None, minimum: int, maximum: int) -> int | None:
    """`value` as an int within [minimum, maximum]; `default` if it is not a plain decimal number
    (so no '1e400', '１２３', 'NaN'); clamped if it is out of bounds."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 30:
        return default
    return min(max(int(text), minimum), maximum)


def page_param(request, name: str = "page") -> int:
    """The requested page number, 1 to MAX_PAGE; 1 when absent or junk."""
    return bounded_int(request.GET.get(name), default=1, minimum=1, maximum=MAX_PAGE)


def pk_param(value) -> int | None:
    """A primary key from a query parameter, or None when it cannot be one."""
    number = bounded_int(value, default=None, minimum=0, maximum=MAX_PK)
    return number if number else None
