"""Who may make the mail server answer for a name, and which names need a second look.

Any name that enters the server's routing (a domain, an alias domain, a backup-MX relay
domain) is a superadmin decision: otherwise a domain admin could claim `gmail.com` as an
alias domain and, with a catch-all, receive the mail every local user sends there. The
services call these checks, so the web views, the CLI and any later API inherit them.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from . import lookalike
from .models import AliasDomain, Domain


def decides_routing(acting_user) -> bool:
    """True for a superadmin, and for the CLI (acting_user None: whoever runs manage.py is root)."""
    return acting_user is None or bool(getattr(acting_user, "is_superadmin", False))


def require_routing_authority(acting_user) -> None:
    """Raise PermissionDenied unless `acting_user` may change what the server answers for."""
    if not decides_routing(acting_user):
        raise PermissionDenied(_("Only a superadmin may change which names this server receives mail for."))


def name_with_punycode(ascii_name: str) -> str:
    """`bücher.example (xn--bcher-kva.example)`; a plain ASCII name alone."""
    shown = lookalike.unicode_name(ascii_name)
    return shown if shown == ascii_name else f"{shown} ({ascii_name})"


def describe(finding: lookalike.Finding) -> str:
    if finding.code == "mixed_scripts":
        return _("“%(label)s” mixes writing systems (for example Latin and Cyrillic letters).") % {"label": finding.label}
    if finding.code == "invisible":
        return _("“%(label)s” holds invisible characters.") % {"label": finding.label}
    if finding.code == "mixed_numbers":
        return _("“%(label)s” mixes digits of different writing systems.") % {"label": finding.label}
    if finding.code == "shows_as_ascii":
        return _("“%(label)s” looks exactly like the plain name “%(other)s”.") % {
            "label": finding.label, "other": finding.other}
    return _("%(name)s looks like %(other)s, which is already on this server.") % {
        "name": finding.label, "other": name_with_punycode(finding.other)}


def lookalike_findings(ascii_name: str) -> list[str]:
    """Why `ascii_name` could be mistaken for another name (UTS #39), as sentences; [] if none."""
    existing = list(Domain.objects.values_list("name", flat=True)) + list(
        AliasDomain.objects.values_list("name", flat=True))
    return [describe(f) for f in lookalike.findings(ascii_name, existing)]


def check_lookalike(ascii_name: str, *, confirmed: bool, may_confirm: bool, field: str = "name") -> None:
    """Refuse a look-alike name unless a superadmin confirmed it (`confirmed` and `may_confirm`)."""
    found = lookalike_findings(ascii_name)
    if not found or (confirmed and may_confirm):
        return
    shown = name_with_punycode(ascii_name)
    if may_confirm:
        lead = _("%(name)s can be mistaken for another name; tick “I have checked this name” to "
                 "accept it anyway.") % {"name": shown}
    else:
        lead = _("%(name)s can be mistaken for another name and is refused.") % {"name": shown}
    raise ValidationError({field: [ValidationError(m, code="name_lookalike") for m in [lead, *found]]})
