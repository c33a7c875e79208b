"""DNS lookups for the checks: one place that turns dnspython's outcomes into answers or
into a `DnsLookupError` that says what went wrong (timeout, SERVFAIL, truncation...).

Resolvers are passed in, never created implicitly, so tests point every lookup at their
own loopback server; `resolver_from_settings()` builds the production one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import dns.exception
import dns.message
import dns.resolver
from django.conf import settings

from .advice import Advice as _  # stored as codes, translated when shown (advice.py)


def resolver_from_settings() -> dns.resolver.Resolver:
    """The resolver the checks use: MAILADMIN_DNS_NAMESERVERS, or the system's."""
    nameservers = list(settings.MAILADMIN_DNS_NAMESERVERS)
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = nameservers
        resolver.port = settings.MAILADMIN_DNS_PORT
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = settings.MAILADMIN_DNS_TIMEOUT
    # Two tries per server at most: a check page must answer in seconds, not minutes.
    resolver.lifetime = settings.MAILADMIN_DNS_TIMEOUT * 2
    # A SERVFAIL is an answer worth reporting, not a reason to hammer the server.
    resolver.retry_servfail = False
    resolver.cache = None
    return resolver


class DnsLookupError(Exception):
    """A lookup that got no usable answer; `kind` is timeout, servfail, truncated, refused or error."""

    def __init__(self, kind: str, name: str, rdtype: str, detail: str = ""):
        super().__init__(f"{kind}: {rdtype} {name} {detail}".strip())
        self.kind = kind
        self.name = name
        self.rdtype = rdtype
        self.detail = detail

    def describe(self) -> _:
        """What went wrong and what to do, as advice (str() gives the text)."""
        params = {"name": self.name, "type": self.rdtype}
        if self.kind == "timeout":
            text = _("Could not check: the DNS query for %(type)s %(name)s timed out. The domain's "
                     "name servers may be down or unreachable; remote mail servers will have the "
                     "same problem. Try again, and check that the name servers answer.")
        elif self.kind == "servfail":
            text = _("Could not check: the DNS server answered SERVFAIL for %(type)s %(name)s. "
                     "The zone is broken or its name servers do not answer (a lame or broken "
                     "delegation, or a DNSSEC failure). Fix the zone or its delegation at the "
                     "registrar.")
        elif self.kind == "truncated":
            text = _("Could not check: the answer for %(type)s %(name)s was truncated and the "
                     "retry over TCP failed. Name servers must answer over TCP as well as UDP, "
                     "otherwise large records (DKIM keys, long SPF) cannot be read.")
        elif self.kind == "refused":
            text = _("Could not check: the DNS server refused the query for %(type)s %(name)s.")
        else:
            text = _("Could not check: the DNS query for %(type)s %(name)s failed (%(detail)s).")
            params["detail"] = self.detail
        return text % params


@dataclass
class Lookup:
    """What a lookup found: its records (maybe none), and whether the name does not exist."""

    rdatas: list = field(default_factory=list)
    nxdomain: bool = False

    def __bool__(self) -> bool:
        return bool(self.rdatas)


def _classify(errors: list) -> tuple[str, str]:
    """The most telling failure among the per-server errors dnspython collected."""
    texts = []
    kinds = set()
    for entry in errors:
        problem = entry[3] if len(entry) > 3 else entry[-1]
        texts.append(str(problem) or type(problem).__name__)
        if isinstance(problem, dns.message.Truncated):
            kinds.add("truncated")
        elif problem == "SERVFAIL":
            kinds.add("servfail")
        elif problem == "REFUSED":
            kinds.add("refused")
        elif isinstance(problem, dns.exception.Timeout):
            kinds.add("timeout")
    for kind in ("truncated", "servfail", "timeout", "refused"):
        if kind in kinds:
            return kind, "; ".join(texts)
    return "error", "; ".join(texts)


def lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> Lookup:
    """Records of `rdtype` at `name`; raises DnsLookupError when the DNS gave no real answer."""
    try:
        answer = resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Lookup(nxdomain=True)
    except dns.resolver.NoAnswer:
        return Lookup()
    except dns.resolver.LifetimeTimeout as exc:
        raise DnsLookupError("timeout", name, rdtype, str(exc)) from None
    except dns.resolver.NoNameservers as exc:
        kind, detail = _classify(exc.kwargs.get("errors") or [])
        raise DnsLookupError(kind, name, rdtype, detail) from None
    except dns.exception.DNSException as exc:
        raise DnsLookupError("error", name, rdtype, str(exc) or type(exc).__name__) from None
    if answer.rrset is None:
        return Lookup()
    return Lookup(rdatas=list(answer.rrset))


def txt_strings(rdata) -> str:
    """One TXT record as the single string it stands for (its character-strings concatenated)."""
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


def lookup_txt(resolver: dns.resolver.Resolver, name: str) -> tuple[list[str], bool]:
    found = lookup(resolver, name, "TXT")
    return [txt_strings(r) for r in found.rdatas], found.nxdomain


def lookup_addresses(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    """Every A and AAAA address of `name`."""
    addresses = []
    for rdtype in ("A", "AAAA"):
        addresses += [r.address for r in lookup(resolver, name, rdtype).rdatas]
    return addresses


def normalize_name(name) -> str:
    return str(name).rstrip(".").lower()

