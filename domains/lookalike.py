"""Look-alike domain names (Unicode Technical Standard #39, "Unicode Security Mechanisms").

A pure core: names in, findings out, no Django and no database. The rules come from ICU's
SpoofChecker (PyICU), which implements UTS #39 and ships its confusables data, rather than
a hand-kept list:
- restriction level (UTS #39 §5.2): each label must be "moderately restrictive", the level
  Firefox applies to IDNs: one script, or Latin with Han/Hiragana/Katakana/Hangul/one other
  script that does not look like Latin. So Latin mixed with Cyrillic (`аlpha`) fails.
- invisible characters and mixed digit systems (§5.3, §5.4).
- confusable skeletons (§4): a non-ASCII label whose skeleton is plain ASCII shows exactly
  like that ASCII label (the whole-Cyrillic `аре` is `ape`); a name whose skeleton equals an
  existing name's skeleton shows like that name.
Findings are returned, not raised: callers decide whether to refuse or ask a superadmin.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import icu
import idna

_CHECKS = (icu.USpoofChecks.RESTRICTION_LEVEL | icu.USpoofChecks.INVISIBLE
           | icu.USpoofChecks.MIXED_NUMBERS)


def _checker() -> icu.SpoofChecker:
    checker = icu.SpoofChecker()
    checker.setChecks(_CHECKS)
    checker.setRestrictionLevel(icu.URestrictionLevel.MODERATELY_RESTRICTIVE)
    return checker


_CHECKER = _checker()


@dataclass(frozen=True)
class Finding:
    code: str        # mixed_scripts | invisible | mixed_numbers | shows_as_ascii | looks_like_existing
    label: str       # the label (or whole name) concerned, in Unicode
    other: str = ""  # what it shows like: an ASCII label, or an existing name (ASCII form)


def unicode_name(ascii_name: str) -> str:
    try:
        return idna.decode(ascii_name)
    except idna.IDNAError:
        return ascii_name


def skeleton(ascii_name: str) -> str:
    """The UTS #39 skeleton of a name's Unicode form, label by label: equal skeletons look alike."""
    return ".".join(_CHECKER.getSkeleton(0, label).lower() for label in unicode_name(ascii_name).split("."))


def findings(ascii_name: str, existing: Iterable[str] = ()) -> list[Finding]:
    """Everything that makes `ascii_name` (punycode) look like another name.

    `existing`: the ASCII names already on the server; any whose skeleton equals this name's
    (other than the name itself) is reported as `looks_like_existing`.
    """
    result: list[Finding] = []
    for label in unicode_name(ascii_name).split("."):
        if label.isascii():
            continue
        flags = _CHECKER.check(label)
        if flags & icu.USpoofChecks.RESTRICTION_LEVEL:
            result.append(Finding("mixed_scripts", label))
        if flags & icu.USpoofChecks.INVISIBLE:
            result.append(Finding("invisible", label))
        if flags & icu.USpoofChecks.MIXED_NUMBERS:
            result.append(Finding("mixed_numbers", label))
        shown = _CHECKER.getSkeleton(0, label).lower()
        if shown.isascii():
            result.append(Finding("shows_as_ascii", label, shown))
    mine = skeleton(ascii_name)
    for other in existing:
        if other != ascii_name and skeleton(other) == mine:
            result.append(Finding("looks_like_existing", unicode_name(ascii_name), other))
    return result
