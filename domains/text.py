"""Free text (display names, descriptions) without control characters, and safe terminal output.

Refused: Unicode category Cc (C0 and C1 controls: ESC, CR, LF, ...) and the bidirectional
overrides and isolates U+202A-U+202E, U+2066-U+2069 (Unicode's "Trojan Source" characters,
CVE-2021-42574), which reorder what a terminal or a page shows. The same class is refused by
form fields, model validation (services, so the CLI) and database CHECK constraints.
"""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

_FORBIDDEN = "\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
FORBIDDEN_RE = re.compile(f"[{_FORBIDDEN}]")
# PostgreSQL cannot store NUL in text at all; the rest as a POSIX bracket expression.
FORBIDDEN_SQL_RE = "[\x01-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def validate_plain_text(value: str) -> None:
    """Raise ValidationError (code `control_character`) if `value` holds a refused character."""
    found = FORBIDDEN_RE.search(value or "")
    if found:
        raise ValidationError(
            _("Control characters and text-direction overrides are not allowed (found U+%(code)s)."),
            code="control_character", params={"code": f"{ord(found.group()):04X}"})


def plain_text_constraint(field: str) -> Q:
    """The CHECK condition that keeps `field` free of refused characters."""
    return ~Q(**{f"{field}__regex": FORBIDDEN_SQL_RE})


def printable(value: object) -> str:
    """`value` as text a terminal shows as is: anything str.isprintable() refuses (controls,
    format characters such as the bidi overrides, separators other than space) is escaped."""
    text = str(value)
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)
