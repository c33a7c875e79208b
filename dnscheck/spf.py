"""SPF (RFC 7208) parsing and evaluation over a dnspython resolver.

Written here rather than taken from pyspf: pyspf 2.1 pins py3dns, and its dnspython path
queries through a module-global `spf.DNSLookup` bound to the system resolver, so pointing
it at the panel's resolver (or a test server) would mean patching a global per check.
We also want the lookup count and the reason for each verdict, which pyspf does not expose.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import dns.reversename


from .advice import Advice as _  # reasons end up in stored advice (advice.py)
from .dnsquery import DnsLookupError, lookup, lookup_txt, normalize_name

MAX_LOOKUPS = 10  # RFC 7208 4.6.4: mechanisms and modifiers that query DNS
MAX_VOID_LOOKUPS = 2  # RFC 7208 4.6.4: lookups that find nothing
MAX_MX_OR_PTR_NAMES = 10
LOOKUP_MECHANISMS = {"include", "a", "mx", "ptr", "exists"}
MECHANISMS = LOOKUP_MECHANISMS | {"all", "ip4", "ip6"}
RESULT_FOR_QUALIFIER = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}

_MODIFIER_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)$")
_MECHANISM_RE = re.compile(r"^([+?~-]?)([a-zA-Z0-9]+)(?::([^/]+))?(?:/(\d+))?(?://(\d+))?$")
_MACRO_RE = re.compile(r"%(?:\{([slodiphcrtvSLODIPHCRTV])(\d*)(r?)([.\-+,/_=]*)\}|(%)|(_)|(-))")


class SpfPermError(Exception):
    """The policy is broken: receivers answer permerror, as if there were no SPF at all."""


class SpfTempError(Exception):
    def __init__(self, lookup_error: DnsLookupError):
        super().__init__(str(lookup_error))
        self.lookup_error = lookup_error


@dataclass
class Term:
    qualifier: str  # "+", "-", "~", "?" for mechanisms, "" for modifiers
    name: str
    argument: str | None = None
    cidr4: int | None = None
    cidr6: int | None = None
    is_modifier: bool = False
    text: str = ""


def is_spf_record(text: str) -> bool:
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def parse(record: str) -> list[Term]:
    """The terms of an SPF record; raises SpfPermError on a syntax error."""
    if not is_spf_record(record):
        raise SpfPermError(_("The record does not start with “v=spf1”."))
    terms: list[Term] = []
    seen_modifiers: set[str] = set()
    for text in record.split()[1:]:
        mechanism = _MECHANISM_RE.match(text)
        modifier = _MODIFIER_RE.match(text)
        if modifier and not (mechanism and mechanism.group(2).lower() in MECHANISMS):
            name = modifier.group(1).lower()
            if name in {"redirect", "exp"}:
                if name in seen_modifiers:
                    raise SpfPermError(_("The modifier “%(name)s=” appears twice.") % {"name": name})
                if not modifier.group(2):
                    raise SpfPermError(_("The modifier “%(name)s=” has no domain.") % {"name": name})
            seen_modifiers.add(name)
            terms.append(Term("", name, modifier.group(2), is_modifier=True, text=text))
            continue
        if not mechanism:
            raise SpfPermError(_("“%(term)s” is not a valid SPF term.") % {"term": text})
        qualifier, name, argument, cidr4, cidr6 = mechanism.groups()
        name = name.lower()
        if name not in MECHANISMS:
            raise SpfPermError(_("“%(term)s” is not an SPF mechanism.") % {"term": text})
        term = Term(qualifier or "+", name, argument,
                    int(cidr4) if cidr4 is not None else None,
                    int(cidr6) if cidr6 is not None else None, text=text)
        _validate_mechanism(term)
        terms.append(term)
    return terms


def _validate_mechanism(term: Term) -> None:
    bad = SpfPermError(_("“%(term)s” is not a valid SPF mechanism.") % {"term": term.text})
    if term.name == "all" and (term.argument or term.cidr4 is not None or term.cidr6 is not None):
        raise bad
    if term.name in {"include", "exists"} and (not term.argument or term.cidr4 is not None
                                               or term.cidr6 is not None):
        raise bad
    if term.name in {"ip4", "ip6"}:
        try:
            ip_network(term)
        except ValueError:
            raise bad from None
        if term.cidr6 is not None:
            raise bad
    if term.name in {"a", "mx"}:
        if (term.cidr4 is not None and term.cidr4 > 32) or (term.cidr6 is not None and term.cidr6 > 128):
            raise bad


def ip_network(term: Term) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network of an ip4:/ip6: mechanism; raises ValueError when it is not one."""
    # The regular expression reads "ip6:2001:db8::/32" as argument "2001:db8::", cidr 32.
    if term.name == "ip4":
        return ipaddress.IPv4Network(f"{term.argument}/{term.cidr4 if term.cidr4 is not None else 32}", strict=False)
    return ipaddress.IPv6Network(f"{term.argument}/{term.cidr4 if term.cidr4 is not None else 128}", strict=False)


def _ip_for_macro(ip: ipaddress._BaseAddress) -> str:
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def expand(spec: str, *, ip, domain: str, sender_domain: str, helo: str) -> str:
    """Expand SPF macros (RFC 7208 7) in a domain-spec."""
    values = {
        "s": f"postmaster@{sender_domain}", "l": "postmaster", "o": sender_domain, "d": domain,
        "i": _ip_for_macro(ip), "p": "unknown", "v": "in-addr" if ip.version == 4 else "ip6",
        "h": helo, "c": str(ip), "r": "unknown", "t": "0",
    }

    def replace(match: re.Match) -> str:
        if match.group(5):
            return "%"
        if match.group(6):
            return " "
        if match.group(7):
            return "%20"
        letter, digits, reverse, delimiters = match.group(1, 2, 3, 4)
        parts = re.split("[" + re.escape(delimiters or ".") + "]", values[letter.lower()])
        if reverse:
            parts.reverse()
        if digits:
            parts = parts[-int(digits):] if int(digits) else parts
        return ".".join(parts)

    if "%" in _MACRO_RE.sub("", spec):
        raise SpfPermError(_("“%(spec)s” has an invalid macro.") % {"spec": spec})
    return _MACRO_RE.sub(replace, spec).rstrip(".")


def _network_match(ip, addresses: list[str], cidr4: int | None, cidr6: int | None) -> bool:
    prefix = (cidr4 if cidr4 is not None else 32) if ip.version == 4 else (cidr6 if cidr6 is not None else 128)
    for address in addresses:
        network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        if ip.version == network.version and ip in network:
            return True
    return False


class SpfEvaluator:
    """check_host() for one sender domain, counting lookups across the whole evaluation."""

    def __init__(self, resolver, *, sender_domain: str, helo: str):
        self.resolver = resolver
        self.sender_domain = sender_domain
        self.helo = helo
        self.lookups = 0
        self.void_lookups = 0

    def _count_lookup(self) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise SpfPermError(_("The evaluation needs more than %(max)d DNS lookups.") % {"max": MAX_LOOKUPS})

    def _lookup(self, name: str, rdtype: str) -> list:
        try:
            found = lookup(self.resolver, name, rdtype)
        except DnsLookupError as exc:
            raise SpfTempError(exc) from None
        if not found:
            self.void_lookups += 1
            if self.void_lookups > MAX_VOID_LOOKUPS:
                raise SpfPermError(_("More than %(max)d DNS lookups found nothing (void lookups).")
                                   % {"max": MAX_VOID_LOOKUPS})
        return found.rdatas

    def record_for(self, domain: str) -> str | None:
        try:
            texts, _nxdomain = lookup_txt(self.resolver, domain)
        except DnsLookupError as exc:
            raise SpfTempError(exc) from None
        records = [t for t in texts if is_spf_record(t)]
        if len(records) > 1:
            raise SpfPermError(_("%(domain)s publishes %(count)d SPF records; there must be exactly one.")
                               % {"domain": domain, "count": len(records)})
        return records[0] if records else None

    def check_host(self, ip, domain: str, depth: int = 0) -> str:
        """pass, fail, softfail, neutral or none; raises SpfPermError / SpfTempError."""
        if depth > MAX_LOOKUPS:
            raise SpfPermError(_("The include/redirect chain loops."))
        record = self.record_for(domain)
        if record is None:
            return "none"
        terms = parse(record)
        redirect = None
        for term in terms:
            if term.is_modifier:
                if term.name == "redirect":
                    redirect = term
                continue
            if term.name in LOOKUP_MECHANISMS:
                self._count_lookup()
            if self._matches(ip, term, domain, depth):
                return RESULT_FOR_QUALIFIER[term.qualifier]
        if redirect is not None:
            self._count_lookup()
            target = self._target(redirect.argument, ip, domain)
            result = self.check_host(ip, target, depth + 1)
            if result == "none":
                raise SpfPermError(_("redirect=%(target)s points at a domain without SPF.") % {"target": target})
            return result
        return "neutral"

    def _target(self, argument: str | None, ip, domain: str) -> str:
        if not argument:
            return domain
        return normalize_name(expand(argument, ip=ip, domain=domain,
                                     sender_domain=self.sender_domain, helo=self.helo))

    def _matches(self, ip, term: Term, domain: str, depth: int) -> bool:
        name = term.name
        if name == "all":
            return True
        if name in {"ip4", "ip6"}:
            network = ip_network(term)
            return ip.version == network.version and ip in network
        target = self._target(term.argument, ip, domain)
        if name == "include":
            result = self.check_host(ip, target, depth + 1)
            if result == "none":
                raise SpfPermError(_("include:%(target)s points at a domain without SPF.") % {"target": target})
            return result == "pass"
        if name == "a":
            rdtype = "A" if ip.version == 4 else "AAAA"
            addresses = [r.address for r in self._lookup(target, rdtype)]
            return _network_match(ip, addresses, term.cidr4, term.cidr6)
        if name == "mx":
            exchanges = self._lookup(target, "MX")
            if len(exchanges) > MAX_MX_OR_PTR_NAMES:
                raise SpfPermError(_("mx:%(target)s has more than 10 MX hosts.") % {"target": target})
            rdtype = "A" if ip.version == 4 else "AAAA"
            for mx in exchanges:
                addresses = [r.address for r in self._lookup(normalize_name(mx.exchange), rdtype)]
                if _network_match(ip, addresses, term.cidr4, term.cidr6):
                    return True
            return False
        if name == "exists":
            return bool(self._lookup(target, "A"))
        if name == "ptr":
            names = self._lookup(str(dns.reversename.from_address(str(ip))), "PTR")[:MAX_MX_OR_PTR_NAMES]
            rdtype = "A" if ip.version == 4 else "AAAA"
            for ptr in names:
                host = normalize_name(ptr.target)
                if host == target or host.endswith("." + target):
                    if str(ip) in [r.address for r in self._lookup(host, rdtype)]:
                        return True
            return False
        return False


def count_lookups(resolver, domain: str, *, _seen: set[str] | None = None) -> int:
    """DNS-querying terms in the whole policy tree (includes and redirects followed).

    A receiver evaluating mail from an unknown server walks the whole tree, so this is the
    count that must stay within the limit, whatever our own addresses match first.
    """
    seen = _seen if _seen is not None else set()
    if domain in seen:
        raise SpfPermError(_("The include/redirect chain loops through %(domain)s.") % {"domain": domain})
    seen.add(domain)
    evaluator = SpfEvaluator(resolver, sender_domain=domain, helo=domain)
    record = evaluator.record_for(domain)
    if record is None:
        return 0
    total = 0
    for term in parse(record):
        if term.is_modifier and term.name != "redirect":
            continue
        if term.name in LOOKUP_MECHANISMS or term.name == "redirect":
            total += 1
        if term.name in {"include", "redirect"} and "%" not in (term.argument or ""):
            total += count_lookups(resolver, normalize_name(term.argument), _seen=seen)
    seen.discard(domain)
    return total


def effective_all(resolver, domain: str, terms: list[Term], depth: int = 0) -> str | None:
    """The qualifier of the `all` that ends the policy (following redirect=), or None."""
    for term in terms:
        if not term.is_modifier and term.name == "all":
            return term.qualifier
    redirect = next((t for t in terms if t.is_modifier and t.name == "redirect"), None)
    if redirect is None or depth > MAX_LOOKUPS or "%" in (redirect.argument or ""):
        return None
    evaluator = SpfEvaluator(resolver, sender_domain=domain, helo=domain)
    record = evaluator.record_for(normalize_name(redirect.argument))
    if record is None:
        return None
    return effective_all(resolver, domain, parse(record), depth + 1)
