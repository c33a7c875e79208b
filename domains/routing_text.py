"""The explainer's words: a `Resolution` (domains/routing.py) as translated sentences, for
`manage.py route` and the route page, with what a domain admin may not see left out."""
from __future__ import annotations

from typing import Callable

from django.utils.translation import gettext as _

from .addresses import address_display
from .routing import Resolution, split

CLASS_NAMES = {
    "virtual": lambda: _("a mail domain of this server (virtual_mailbox_domains)"),
    "alias_domain": lambda: _("an alias domain of this server (virtual_alias_domains)"),
    "relay": lambda: _("a backup-MX domain, relayed to its primary MX (relay_domains)"),
    "remote": lambda: _("another server's domain"),
}
OUTCOMES = {
    "delivered": lambda o: _("%(address)s: delivered to the mailbox %(mailbox)s") % o,
    "external": lambda o: _("%(address)s: sent to another server") % o,
    "relayed": lambda o: _("%(address)s: relayed to the domain's primary MX") % o,
    "unknown": lambda o: _("%(address)s: refused, no such mailbox (bounces to the sender)") % o,
    "inactive": lambda o: _("%(address)s: refused, the mailbox is inactive (bounces to the sender)") % o,
    "over_quota": lambda o: _("%(address)s: refused while the mailbox %(mailbox)s is over quota "
                              "(552 5.2.2, bounces to the sender)") % o,
    "alias_domain_unresolved": lambda o: _("%(address)s: bounces, it maps back to itself in an alias domain") % o,
}
RCPT = {
    "accepted": lambda: _("Accepted at RCPT TO."),
    "disabled": lambda: _("Refused at RCPT TO: the address is inactive."),
    "unknown": lambda: _("Refused at RCPT TO: no mailbox, alias or catch-all has this address."),
    "relay_denied": lambda: _("Refused at RCPT TO: not a domain of this server (relaying denied)."),
}


SENDER_REASONS = {
    "mailbox": lambda r: _("%(login)s: the mailbox itself") % r,
    "alias": lambda r: _("%(login)s: the alias %(via)s delivers to it") % r,
    "grant": lambda r: _("%(login)s: granted the right to send as %(via)s") % r,
}


def sender_reasons(resolution: Resolution, visible: Callable[[str], bool] = lambda address: True) -> list[str]:
    """“Who may send as X” with why, one sentence per login and reason, visible logins only."""
    return [SENDER_REASONS[r["reason"]]({"login": address_display(r["login"]), "via": address_display(r["via"])})
            for r in resolution.sender_reasons if visible(r["login"])]


def describe(resolution: Resolution, visible: Callable[[str], bool] = lambda address: True) -> dict:
    """Sentences for each step, final recipient and sender. `visible(address)` says whether the
    reader may see an address's own routing; others are named, not explained."""
    hidden = _("an address in a domain you do not manage")
    # SECURITY: what another domain's rows lead to (its forwardings to other servers, its
    # members) is that domain's business: an address is shown only when the queried address
    # or a visible lookup names it, never when only a hidden lookup does.
    named = {resolution.address} | {r for s in resolution.steps if s.code == "lookup" and visible(s.params["address"])
                                     for r in s.params["results"]}
    steps: list[str] = []
    for step in resolution.steps:
        p = step.params
        if step.code == "domain_class":
            steps.append(_("%(domain)s is %(class)s.") % {"domain": p["domain"], "class": CLASS_NAMES[p["class"]]()})
        elif step.code == "rcpt_refused":
            steps.append(_("smtpd answers %(reply)s.") % p)
        elif step.code == "lookup" and not visible(p["address"]):
            if not steps or steps[-1] != hidden:
                steps.append(hidden)
        elif step.code == "lookup":
            how = (_("as %(key)s") % p) if p["key"] != p["address"] else ""
            steps.append(_("%(address)s found %(how)s in %(table)s → %(results)s") % {
                "address": address_display(p["address"]), "how": how, "table": p["table"],
                "results": ", ".join(address_display(r) for r in p["results"])})
        elif step.code == "recursion_limit":
            cycle = [a if visible(a) else hidden for a in p["cycle"]]
            steps.append(_("Loop: %(cycle)s. After %(limit)d nested lookups Postfix defers the whole message "
                           "(451 4.6.0 Alias expansion error).") % {"cycle": " → ".join(cycle), "limit": p["limit"]})
        elif step.code == "expansion_limit":
            steps.append(_("More than %(limit)d addresses: Postfix defers the whole message "
                           "(451 4.6.0 Alias expansion error).") % p)
    outcomes = []
    for outcome in resolution.outcomes:
        local_domain = outcome.result not in ("external", "relayed")
        if not visible(outcome.address) and (local_domain or outcome.address not in named):
            outcomes.append(hidden)
        else:
            outcomes.append(OUTCOMES[outcome.result]({"address": address_display(outcome.address),
                                                      "mailbox": address_display(outcome.mailbox)}))
    senders = [address_display(s) for s in resolution.senders if visible(s)]
    others = len(resolution.senders) - len(senders)
    return {"address": address_display(resolution.address), "rcpt": RCPT[resolution.rcpt](),
            "steps": steps, "outcomes": outcomes, "senders": senders, "other_senders": others,
            "sender_reasons": sender_reasons(resolution, visible),
            "error": resolution.error}


def domain_of(address: str) -> str:
    return split(address)[1]
