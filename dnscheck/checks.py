"""The DNS health checks of one mail domain.

Each check takes a dnspython resolver (passed in: production uses
`dnsquery.resolver_from_settings()`, tests their loopback server), reads the DNS and
returns a `CheckResult`: a status, the records it found, and one paragraph saying what is
wrong and how to fix it. A DNS failure is reported as "unknown" (could not check), never
as a crash and never as "ok".
"""
from __future__ import annotations

import base64
import ipaddress
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

import dns.reversename
from django.conf import settings
from django.utils.translation import gettext_lazy

from . import spf
from .advice import Advice as _  # sentences stored as codes, translated when shown
from .dnsquery import DnsLookupError, lookup, lookup_addresses, lookup_txt, normalize_name

logger = logging.getLogger(__name__)

OK, WARNING, ERROR, UNKNOWN = "ok", "warning", "error", "unknown"
STATUS_CHOICES = [
    (OK, gettext_lazy("OK")),
    (WARNING, gettext_lazy("Warning")),
    (ERROR, gettext_lazy("Error")),
    (UNKNOWN, gettext_lazy("Could not check")),
]
# Worst first wins when a domain's checks are summed up: a broken record outranks a
# lookup that failed, which outranks a recommendation.
SEVERITY = {OK: 0, WARNING: 1, UNKNOWN: 2, ERROR: 3}

CHECK_TITLES = {
    "mx": gettext_lazy("MX"),
    "spf": gettext_lazy("SPF"),
    "dkim": gettext_lazy("DKIM"),
    "dmarc": gettext_lazy("DMARC"),
    "ptr": gettext_lazy("Reverse DNS (PTR)"),
    "mta_sts": gettext_lazy("MTA-STS"),
    "tls_rpt": gettext_lazy("TLS-RPT"),
}


@dataclass
class CheckResult:
    check: str
    status: str
    records: list[str] = field(default_factory=list)
    advice: list[_] = field(default_factory=list)
    recommendation: bool = False

    @property
    def explanation(self) -> str:
        """The advice as one paragraph, in the active language."""
        return " ".join(str(a) for a in self.advice)

    def as_dict(self) -> dict:
        return {"check": self.check, "status": self.status, "records": self.records,
                "explanation": self.explanation, "recommendation": self.recommendation}


@dataclass(frozen=True)
class ServerIdentity:
    """Who we are in DNS: our MX host names and public addresses."""

    mx_hosts: tuple[str, ...]
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    dmarc_report_address: str = ""

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.ipv4 + self.ipv6

    @classmethod
    def from_settings(cls) -> "ServerIdentity":
        return cls(
            mx_hosts=tuple(normalize_name(h) for h in settings.MAILADMIN_MX_HOSTS),
            ipv4=tuple(settings.MAILADMIN_PUBLIC_IPV4),
            ipv6=tuple(str(ipaddress.ip_address(a)) for a in settings.MAILADMIN_PUBLIC_IPV6),
            dmarc_report_address=settings.MAILADMIN_DMARC_REPORT_ADDRESS,
        )


class PublishedKey(Protocol):
    """What the DKIM check needs from a key (dnscheck.models.DkimKey fits)."""

    selector: str
    key_type: str  # "rsa" or "ed25519", as in the k= tag
    public_key: str  # base64, the p= tag


class _Findings:
    """Collects problems as sentences with a severity, then sums them up in one result."""

    def __init__(self, check: str, recommendation: bool = False):
        self.check = check
        self.recommendation = recommendation
        self.records: list[str] = []
        self.problems: list[tuple[str, _]] = []

    def error(self, text: _) -> None:
        self.problems.append((ERROR, text))

    def warn(self, text: _) -> None:
        self.problems.append((WARNING, text))

    def note(self, text: _) -> None:
        self.problems.append((OK, text))

    def result(self, ok_text: _ | None) -> CheckResult:
        status = max((s for s, _t in self.problems), key=SEVERITY.get, default=OK)
        texts = [t for _s, t in self.problems]
        if status == OK and ok_text is not None:
            texts.insert(0, ok_text)
        return CheckResult(self.check, status, self.records, texts, self.recommendation)


def _guarded(check: str, recommendation: bool = False):
    """A DNS failure anywhere in the check makes it "could not check", with the reason."""

    def decorate(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        def wrapper(*args, **kwargs) -> CheckResult:
            try:
                return function(*args, **kwargs)
            except DnsLookupError as exc:
                return CheckResult(check, UNKNOWN, [], [exc.describe()], recommendation)
            except Exception:
                # A record shaped in a way we did not foresee must not take the page down.
                logger.exception("DNS check %s failed", check)
                return CheckResult(check, UNKNOWN, [], [_(
                    "Could not check: the check failed unexpectedly (the error is in the "
                    "server log). Run it again; if it persists, report it.")], recommendation)

        wrapper.__name__ = function.__name__
        wrapper.__doc__ = function.__doc__
        return wrapper

    return decorate


def _no_such_domain(check: str, domain: str, recommendation: bool = False) -> CheckResult:
    return CheckResult(check, ERROR, [], [_(
        "%(domain)s does not exist in the DNS (NXDOMAIN). Register the domain, or check that "
        "its delegation to your DNS hosting is in place, then publish the records below."
    ) % {"domain": domain}], recommendation)


# --- MX ----------------------------------------------------------------------------------

@_guarded("mx")
def check_mx(resolver, domain: str, identity: ServerIdentity) -> CheckResult:
    """MX records exist, point at our host names, and those resolve to our addresses."""
    found = _Findings("mx")
    answer = lookup(resolver, domain, "MX")
    if answer.nxdomain:
        return _no_such_domain("mx", domain)
    exchanges = sorted(answer.rdatas, key=lambda r: r.preference)
    found.records = [f"MX {r.preference} {r.exchange}" for r in exchanges]
    hosts = [normalize_name(r.exchange) for r in exchanges]
    ours_text = ", ".join(identity.mx_hosts)
    if not hosts:
        found.error(_("%(domain)s has no MX record, so other servers fall back to its A record "
                      "(or give up). Publish “MX 10 %(ours)s.”.") % {"domain": domain, "ours": identity.mx_hosts[0]})
        return found.result(None)
    if hosts == [""]:
        found.error(_("%(domain)s publishes a null MX (“MX 0 .”): it declares that it accepts no "
                      "mail at all. Replace it with “MX 10 %(ours)s.”.") % {"domain": domain, "ours": identity.mx_hosts[0]})
        return found.result(None)
    ours = [h for h in hosts if h in identity.mx_hosts]
    others = [h for h in hosts if h not in identity.mx_hosts]
    if not ours:
        found.error(_("The MX records point at %(hosts)s, not at this server (%(ours)s): mail for "
                      "%(domain)s is delivered elsewhere. Replace them with “MX 10 %(first)s.”.")
                    % {"hosts": ", ".join(others), "ours": ours_text, "domain": domain,
                       "first": identity.mx_hosts[0]})
        return found.result(None)
    if others:
        found.warn(_("Some MX records point at other hosts (%(hosts)s). That is right only if they "
                     "are backup MX servers you run; otherwise remove them.") % {"hosts": ", ".join(others)})
    expected = set(identity.addresses)
    for host in ours:
        addresses = lookup_addresses(resolver, host)
        found.records.append(f"{host}: {', '.join(addresses) or '-'}")
        if not addresses:
            found.error(_("%(host)s has no A or AAAA record: senders cannot reach it. Publish its "
                          "addresses (%(ours)s).") % {"host": host, "ours": ", ".join(identity.addresses) or "?"})
            continue
        normalized = {str(ipaddress.ip_address(a)) for a in addresses}
        if expected and not normalized <= expected:
            found.error(_("%(host)s resolves to %(found)s, but this server's addresses are %(ours)s. "
                          "Fix its A/AAAA records.") % {"host": host, "found": ", ".join(sorted(normalized - expected)),
                                                      "ours": ", ".join(identity.addresses)})
        missing = expected - normalized
        if expected and missing and not normalized - expected:
            found.warn(_("%(host)s does not publish %(missing)s; senders will not use that address.")
                       % {"host": host, "missing": ", ".join(sorted(missing))})
    return found.result(_("The MX records point at this server and its names resolve to its addresses."))


# --- SPF ---------------------------------------------------------------------------------

_ALL_EXPLANATIONS = {
    "-": _("It ends with “-all” (fail): receivers may reject mail from any other "
                      "server, the strongest protection against spoofing."),
    "~": _("It ends with “~all” (soft fail): mail from other servers is not rejected "
                      "by SPF alone but marked as suspicious (DMARC then decides). Switch to "
                      "“-all” once you are sure every legitimate sender is listed."),
}


@_guarded("spf")
def check_spf(resolver, domain: str, identity: ServerIdentity) -> CheckResult:
    """Exactly one v=spf1 record that parses, authorizes our addresses, stays within 10 lookups."""
    found = _Findings("spf")
    texts, nxdomain = lookup_txt(resolver, domain)
    if nxdomain:
        return _no_such_domain("spf", domain)
    records = [t for t in texts if spf.is_spf_record(t)]
    found.records = records
    if not records:
        found.error(_("%(domain)s has no SPF record, so receivers cannot tell which servers may send "
                      "its mail and treat it as suspicious. Publish one TXT record such as the "
                      "one below.") % {"domain": domain})
        if any(t.lower().startswith("v=spf") for t in texts):
            found.error(_("A TXT record looks like SPF but does not start with exactly “v=spf1 ”."))
        return found.result(None)
    if len(records) > 1:
        found.error(_("%(domain)s publishes %(count)d SPF records. There must be exactly one: with "
                      "two, receivers return “permerror” and ignore SPF entirely. Merge them into a "
                      "single record.") % {"domain": domain, "count": len(records)})
        return found.result(None)
    try:
        terms = spf.parse(records[0])
        lookups = spf.count_lookups(resolver, domain)
    except spf.SpfPermError as exc:
        found.error(_("The SPF record is invalid (%(reason)s); receivers treat it as “permerror”, "
                      "as if there were none. Fix it as shown below.") % {"reason": exc})
        return found.result(None)
    except spf.SpfTempError as exc:
        raise exc.lookup_error from None
    for term in terms:
        if term.is_modifier and term.name in spf.MECHANISMS:
            found.error(_("“%(term)s” is read as an unknown modifier and ignored: a typo for a "
                          "mechanism (“%(name)s:…”)?") % {"term": term.text, "name": term.name})
    if lookups > spf.MAX_LOOKUPS:
        found.error(_("Evaluating the record takes %(count)d DNS lookups (include, a, mx, ptr, "
                      "exists, redirect), more than the limit of %(max)d: receivers answer "
                      "“permerror”. Replace includes with ip4:/ip6: mechanisms.")
                    % {"count": lookups, "max": spf.MAX_LOOKUPS})
    else:
        found.note(_("It needs %(count)d of the %(max)d allowed DNS lookups.")
                   % {"count": lookups, "max": spf.MAX_LOOKUPS})
    helo = identity.mx_hosts[0] if identity.mx_hosts else domain
    for address in identity.addresses:
        evaluator = spf.SpfEvaluator(resolver, sender_domain=domain, helo=helo)
        try:
            result = evaluator.check_host(ipaddress.ip_address(address), domain)
        except spf.SpfPermError as exc:
            found.error(_("Evaluating it for %(ip)s fails with “permerror” (%(reason)s).")
                        % {"ip": address, "reason": exc})
            continue
        except spf.SpfTempError as exc:
            raise exc.lookup_error from None
        if result != "pass":
            found.error(_("It does not authorize this server's address %(ip)s (result: %(result)s): "
                          "mail sent from here fails SPF. Add “ip%(version)d:%(ip)s” (or “mx”).")
                        % {"ip": address, "result": result,
                           "version": ipaddress.ip_address(address).version})
    try:
        qualifier = spf.effective_all(resolver, domain, terms)
    except spf.SpfPermError as exc:
        found.error(_("The record it redirects to is invalid (%(reason)s).") % {"reason": exc})
        return found.result(None)
    except spf.SpfTempError as exc:
        raise exc.lookup_error from None
    if qualifier in _ALL_EXPLANATIONS:
        found.note(_ALL_EXPLANATIONS[qualifier])
    elif qualifier == "+":
        found.error(_("It ends with “+all”: every server on the Internet may send as %(domain)s. "
                      "End it with “-all” (or “~all”).") % {"domain": domain})
    elif qualifier == "?":
        found.warn(_("It ends with “?all” (neutral): it says nothing about other servers, so it does "
                     "not protect against spoofing. End it with “-all” (or “~all”, soft fail)."))
    else:
        found.warn(_("It has no “all” mechanism, so mail from any other server is “neutral”. End "
                     "it with “-all” (or “~all”, soft fail)."))
    return found.result(_("The SPF record authorizes this server."))


# --- DKIM --------------------------------------------------------------------------------

def _dkim_tags(text: str) -> dict[str, str]:
    tags = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = re.sub(r"\s+", "", value)
    return tags


@_guarded("dkim")
def check_dkim(resolver, domain: str, keys: Iterable[PublishedKey]) -> CheckResult:
    """Each of the panel's active keys is published at its selector, with the same public key."""
    found = _Findings("dkim")
    keys = list(keys)
    if not keys:
        found.warn(_("The panel holds no DKIM key for %(domain)s, so its mail is not signed and "
                     "DMARC can only rely on SPF. Generate a key below, then publish its record.")
                   % {"domain": domain})
        return found.result(None)
    for key in keys:
        name = f"{key.selector}._domainkey.{domain}"
        texts, _nx = lookup_txt(resolver, name)
        dkim_texts = [t for t in texts if "p=" in t]
        found.records += [f"{name}: {t}" for t in dkim_texts]
        if not dkim_texts:
            found.error(_("No DKIM record at %(name)s: receivers cannot verify signatures made with "
                          "the key “%(selector)s”. Publish the TXT record shown below.")
                        % {"name": name, "selector": key.selector})
            continue
        if len(dkim_texts) > 1:
            found.error(_("%(name)s has %(count)d DKIM records; keep exactly one.")
                        % {"name": name, "count": len(dkim_texts)})
            continue
        tags = _dkim_tags(dkim_texts[0])
        if tags.get("v", "DKIM1") != "DKIM1":
            found.error(_("%(name)s has “v=%(v)s”; it must be “v=DKIM1” (or no v= tag).")
                        % {"name": name, "v": tags["v"]})
        published = tags.get("p", "")
        if not published:
            found.error(_("The key at %(name)s is empty (p=): it is revoked. Publish the current key.")
                        % {"name": name})
            continue
        try:
            same = base64.b64decode(published, validate=True) == base64.b64decode(key.public_key)
        except ValueError:
            same = False
        if not same:
            found.error(_("The key published at %(name)s is not the panel's key for selector "
                          "“%(selector)s”: signatures will fail. Replace the record with the one below.")
                        % {"name": name, "selector": key.selector})
        elif tags.get("k", "rsa") != key.key_type:
            found.error(_("The record at %(name)s says k=%(found)s but the key is %(expected)s.")
                        % {"name": name, "found": tags.get("k", "rsa"), "expected": key.key_type})
    return found.result(_("Every DKIM key the panel signs with is published with the right public key."))


# --- DMARC -------------------------------------------------------------------------------

DMARC_TAGS = {"v", "p", "sp", "np", "rua", "ruf", "adkim", "aspf", "pct", "fo", "rf", "ri", "t", "psd"}
_POLICIES = {"none", "quarantine", "reject"}
_MAILTO_RE = re.compile(r"^mailto:([^@\s!,;]+@[a-z0-9.-]+\.[a-z0-9-]+)(![0-9]+[kmgt]?)?$", re.IGNORECASE)


def _check_report_uris(found: _Findings, tag: str, value: str, allowed: tuple[str, ...] = ("mailto:",)) -> None:
    for uri in (u.strip() for u in value.split(",")):
        if uri.lower().startswith("mailto:") and _MAILTO_RE.match(uri):
            continue
        if uri.lower().startswith("https:") and "https:" in allowed:
            continue
        found.error(_("%(tag)s=%(uri)s is not a valid report address; write it as "
                      "“%(tag)s=mailto:reports@example.org”.") % {"tag": tag, "uri": uri})


@_guarded("dmarc")
def check_dmarc(resolver, domain: str, identity: ServerIdentity) -> CheckResult:
    """One v=DMARC1 record at _dmarc with valid tags, a policy and mailto: report addresses."""
    found = _Findings("dmarc")
    name = f"_dmarc.{domain}"
    texts, _nx = lookup_txt(resolver, name)
    records = [t for t in texts if t.replace(" ", "").startswith("v=DMARC1")]
    found.records = [t for t in texts if t.lower().replace(" ", "").startswith("v=dmarc")]
    if not records:
        if found.records:
            found.error(_("The record at %(name)s must start with exactly “v=DMARC1” (upper case).")
                        % {"name": name})
        else:
            found.error(_("No DMARC record at %(name)s: receivers apply no policy to mail that fails "
                          "SPF and DKIM, and nobody gets reports. Publish the record below (start "
                          "with p=none to monitor, then quarantine or reject).") % {"name": name})
        return found.result(None)
    if len(records) > 1:
        found.error(_("%(name)s has %(count)d DMARC records; receivers ignore DMARC when there is "
                      "more than one. Keep exactly one.") % {"name": name, "count": len(records)})
        return found.result(None)
    tags: dict[str, str] = {}
    parts = [p.strip() for p in records[0].split(";")]
    for part in parts:
        if not part:
            continue
        tag, sep, value = part.partition("=")
        tag = tag.strip().lower()
        if not sep:
            if part.lower().startswith(("rua", "ruf")) and "mailto:" in part.lower():
                found.error(_("“%(part)s” is missing its “=”: write “%(tag)s=mailto:%(rest)s”. As it "
                              "is, receivers ignore it and send no reports.")
                            % {"part": part, "tag": part[:3].lower(), "rest": part.lower().split("mailto:", 1)[1]})
            else:
                found.error(_("“%(part)s” is not a tag=value pair.") % {"part": part})
            continue
        if tag in tags:
            found.error(_("The tag “%(tag)s=” appears twice (a DKIM key pasted into the DMARC "
                          "record?). Receivers reject the whole record.") % {"tag": tag})
            continue
        tags[tag] = value.strip()
        if tag not in DMARC_TAGS:
            found.warn(_("“%(tag)s=” is not a DMARC tag; receivers ignore it.") % {"tag": tag})
    policy = tags.get("p")
    if policy is None:
        found.error(_("The record has no policy (p=). Add “p=none”, “p=quarantine” or “p=reject”."))
    elif policy not in _POLICIES:
        found.error(_("p=%(value)s is not a policy: use none, quarantine or reject.") % {"value": policy})
    elif policy == "none":
        found.warn(_("The policy is p=none: receivers only report, they do not act on spoofed mail. "
                     "Move to p=quarantine, then p=reject, once the reports look clean."))
    for tag in ("sp", "np"):
        if tag in tags and tags[tag] not in _POLICIES:
            found.error(_("%(tag)s=%(value)s is not a policy: use none, quarantine or reject.")
                        % {"tag": tag, "value": tags[tag]})
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag] not in {"r", "s"}:
            found.error(_("%(tag)s=%(value)s must be r (relaxed) or s (strict).") % {"tag": tag, "value": tags[tag]})
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        found.error(_("pct=%(value)s must be a number from 0 to 100.") % {"value": tags["pct"]})
    for tag in ("rua", "ruf"):
        if tag in tags:
            _check_report_uris(found, tag, tags[tag])
    if "rua" not in tags:
        found.warn(_("There is no rua= address, so you will receive no aggregate reports. Add "
                     "“rua=mailto:%(address)s”.") % {"address": identity.dmarc_report_address or f"dmarc@{domain}"})
    return found.result(_("The DMARC record is valid and sets a policy."))


# --- PTR (FCrDNS) ------------------------------------------------------------------------

@_guarded("ptr")
def check_ptr(resolver, identity: ServerIdentity) -> CheckResult:
    """Each of our addresses has a PTR that resolves back to it (FCrDNS), naming an MX host."""
    found = _Findings("ptr")
    if not identity.addresses:
        found.warn(_("No public address is configured (MAILADMIN_PUBLIC_IPV4 / _IPV6), so the "
                     "reverse DNS cannot be checked."))
        return found.result(None)
    for address in identity.addresses:
        reverse = str(dns.reversename.from_address(address)).rstrip(".")
        answer = lookup(resolver, reverse, "PTR")
        names = [normalize_name(r.target) for r in answer.rdatas]
        found.records.append(f"{reverse} PTR {', '.join(names) or '-'}")
        if not names:
            found.error(_("%(ip)s has no reverse name (PTR): many receivers reject or spam-file mail "
                          "from such servers. Ask your hosting provider to set its PTR to %(host)s.")
                        % {"ip": address, "host": identity.mx_hosts[0]})
            continue
        confirmed = [n for n in names if address in {str(ipaddress.ip_address(a)) for a in lookup_addresses(resolver, n)}]
        if not confirmed:
            found.error(_("%(ip)s has the reverse name %(names)s, which does not resolve back to "
                          "%(ip)s (no forward-confirmed reverse DNS). Fix the name's A/AAAA record or "
                          "the PTR.") % {"ip": address, "names": ", ".join(names)})
        elif not set(confirmed) & set(identity.mx_hosts):
            found.warn(_("%(ip)s has the reverse name %(names)s, not the MX host name (%(ours)s); "
                         "the server's HELO name, MX and PTR should agree. Ask your hosting "
                         "provider to change the PTR.") % {"ip": address, "names": ", ".join(confirmed),
                                                          "ours": ", ".join(identity.mx_hosts)})
    return found.result(_("Every address of this server has a reverse name that resolves back to it "
                          "and matches the MX host name."))


# --- MTA-STS and TLS-RPT (recommendations) -----------------------------------------------

_STS_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")


def _tag_list(text: str) -> dict[str, str]:
    tags = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip()] = value.strip()
    return tags


def _single_record(found: _Findings, resolver, name: str, prefix: str, kind: str, missing_text: str) -> str | None:
    """The one record at `name` starting with `prefix` (case-insensitively), or None after
    recording why there is not exactly one."""
    texts, _nx = lookup_txt(resolver, name)
    found.records = [t for t in texts if t.lower().startswith(prefix)]
    if not found.records:
        found.warn(missing_text)
        return None
    if len(found.records) > 1:
        found.error(_("%(name)s has %(count)d %(kind)s records; senders ignore them unless there is "
                      "exactly one.") % {"name": name, "count": len(found.records), "kind": kind})
        return None
    return found.records[0]


@_guarded("mta_sts", recommendation=True)
def check_mta_sts(resolver, domain: str, identity: ServerIdentity) -> CheckResult:
    found = _Findings("mta_sts", recommendation=True)
    name = f"_mta-sts.{domain}"
    record = _single_record(found, resolver, name, "v=sts", "MTA-STS", _(
        "Recommended: no MTA-STS record at %(name)s. MTA-STS tells other servers to deliver to "
        "you only over verified TLS. Publish the TXT record below and the policy file at "
        "https://mta-sts.%(domain)s/.well-known/mta-sts.txt.") % {"name": name, "domain": domain})
    if record is None:
        return found.result(None)
    tags = _tag_list(record)
    if tags.get("v") != "STSv1" or not record.startswith("v=STSv1"):
        found.error(_("The record must start with exactly “v=STSv1” (case matters: “v=STSV1” is "
                      "ignored by senders). Found “%(record)s”.") % {"record": record})
    if not _STS_ID_RE.match(tags.get("id", "")):
        found.error(_("The record needs an “id=” of 1 to 32 letters and digits, changed whenever "
                      "the policy file changes."))
    return found.result(_("The MTA-STS record is valid (the policy file itself is served over HTTPS "
                          "at https://mta-sts.%(domain)s/.well-known/mta-sts.txt).") % {"domain": domain})


@_guarded("tls_rpt", recommendation=True)
def check_tls_rpt(resolver, domain: str, identity: ServerIdentity) -> CheckResult:
    found = _Findings("tls_rpt", recommendation=True)
    name = f"_smtp._tls.{domain}"
    record = _single_record(found, resolver, name, "v=tlsrpt", "TLS-RPT", _(
        "Recommended: no TLS-RPT record at %(name)s. With one, other servers report TLS delivery "
        "failures to you. Publish the TXT record below.") % {"name": name})
    if record is None:
        return found.result(None)
    tags = _tag_list(record)
    if not record.startswith("v=TLSRPTv1"):
        found.error(_("The record must start with exactly “v=TLSRPTv1”."))
    if "rua" not in tags:
        found.error(_("The record needs a report address: “rua=mailto:tls-reports@%(domain)s”.")
                    % {"domain": domain})
    else:
        _check_report_uris(found, "rua", tags["rua"], allowed=("mailto:", "https:"))
    return found.result(_("The TLS-RPT record is valid."))


# --- All of them -------------------------------------------------------------------------

def run_checks(resolver, domain: str, identity: ServerIdentity, dkim_keys: Iterable[PublishedKey]) -> list[CheckResult]:
    """Every check for one domain, in display order.

    The checks run in parallel: against a dead name server each one waits for its own
    timeout, and the page should answer after one timeout, not seven.
    """
    dkim_keys = list(dkim_keys)
    calls = [
        (check_mx, (resolver, domain, identity)),
        (check_spf, (resolver, domain, identity)),
        (check_dkim, (resolver, domain, dkim_keys)),
        (check_dmarc, (resolver, domain, identity)),
        (check_ptr, (resolver, identity)),
        (check_mta_sts, (resolver, domain, identity)),
        (check_tls_rpt, (resolver, domain, identity)),
    ]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(function, *args) for function, args in calls]
        return [future.result() for future in futures]


def overall_status(results: Iterable[CheckResult]) -> str:
    return max((r.status for r in results), key=SEVERITY.get, default=OK)
