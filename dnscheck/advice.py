"""DNS advice kept as message ids and parameters, translated when it is shown.

A check run is stored and read later, by other admins in other languages: its sentences
are stored as the English message id (the gettext key) with their parameters, and become
text in the reader's language only when a page or the CLI renders them. In the checks,
`Advice` stands in for gettext as `_`, so makemessages still extracts every sentence:

    found.error(_("%(domain)s has no MX record.") % {"domain": domain})
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext


class Advice:
    """One sentence: `msgid` (English, a key of the catalogue) and its `params`."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, params: dict[str, Any] | None = None):
        self.msgid = msgid
        self.params = params or {}

    def __mod__(self, params: dict[str, Any]) -> "Advice":
        return Advice(self.msgid, {key: _storable(value) for key, value in params.items()})

    def __str__(self) -> str:
        """The sentence in the active language."""
        text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {key: _text(value) for key, value in self.params.items()}

    def __eq__(self, other) -> bool:
        return isinstance(other, Advice) and (self.msgid, self.params) == (other.msgid, other.params)

    def __repr__(self) -> str:
        return f"Advice({self.msgid!r}, {self.params!r})"

    def as_json(self) -> dict:
        return {"msgid": self.msgid, "params": self.params}

    @classmethod
    def from_json(cls, data: dict) -> "Advice":
        return cls(data.get("msgid", ""), data.get("params") or {})


# Stored before advice was kept as codes: the text as it was written, in the language of
# whoever ran that check (migration 0002). Shown as is; the next run stores codes.
LEGACY_KEY = "text"


def _storable(value: Any) -> Any:
    """A parameter as JSON: numbers stay numbers (for %(count)d), nested advice (an SPF
    error's reason) stays advice, anything else becomes its text."""
    if isinstance(value, Advice):
        return value.as_json()
    if isinstance(value, Exception) and value.args and isinstance(value.args[0], Advice):
        return value.args[0].as_json()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return value


def _text(value: Any) -> Any:
    if isinstance(value, dict) and "msgid" in value:
        return str(Advice.from_json(value))
    return value


def render(stored: list[dict]) -> str:
    """Stored advice (a list of as_json() dicts, or legacy texts) as one paragraph in the
    active language."""
    parts = []
    for item in stored or []:
        if LEGACY_KEY in item:
            parts.append(item[LEGACY_KEY])
        elif item.get("msgid"):
            parts.append(str(Advice.from_json(item)))
    return " ".join(parts)
