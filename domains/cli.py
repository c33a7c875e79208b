"""Shared plumbing for the scripting CLI (manage.py domain|mailbox|alias|aliasdomain).

Commands call the same services as the web UI; a ValidationError becomes a CommandError
(message on stderr, exit status 1) and nothing is written, since every service is atomic.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Iterable

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from .text import printable
from .units import parse_size


SIZE_HELP = "SIZE is in MiB, or with a unit (500M, 2G, 1.5T); 0 or 'unlimited' = no limit"


def size_arg(value: str) -> int:
    """argparse type for a size: bytes, read by domains.units.parse_size (a bare number is MiB,
    as in the forms)."""
    try:
        return parse_size(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.messages[0]) from None


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        parts = []
        for field, errors in exc.message_dict.items():
            prefix = "" if field == "__all__" else f"{field}: "
            parts.extend(prefix + message for message in errors)
        return "; ".join(parts)
    return "; ".join(exc.messages)


def run_service(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ValidationError as exc:
        raise CommandError(validation_message(exc)) from None


def read_password_stdin() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise CommandError("--password-stdin: no standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("--password-stdin: standard input held no password")
    return password


def print_rows(stdout, rows: list[dict[str, Any]], columns: Iterable[str], as_json: bool) -> None:
    columns = list(columns)
    if as_json:
        stdout.write(json.dumps(rows, indent=2, default=str))
        return
    # SECURITY: stored text is shown escaped: no terminal escape or line break from a row.
    table = [[printable(row.get(c, "")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in table]) for i, c in enumerate(columns)]
    stdout.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for r in table:
        stdout.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def print_object(stdout, data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        stdout.write(json.dumps(data, indent=2, default=str))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        stdout.write(f"{key.ljust(width)}  {printable(value)}")


def add_active_flags(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--active", dest="active", action="store_const", const=True, default=None)
    group.add_argument("--inactive", dest="active", action="store_const", const=False)
