"""The zone-file snippet that makes every check pass for a domain."""
from __future__ import annotations

import hashlib
from typing import Iterable

import dns.reversename

from .checks import PublishedKey, ServerIdentity

TTL = 3600
MAX_STRING = 255  # a TXT character-string holds at most 255 bytes


def split_txt(value: str) -> list[str]:
    """`value` cut into quoted-string-sized pieces (DKIM keys are longer than 255 bytes)."""
    data = value.encode("ascii")
    return [data[i:i + MAX_STRING].decode("ascii") for i in range(0, len(data), MAX_STRING)] or [""]


def _txt(owner: str, value: str) -> str:
    pieces = split_txt(value)
    if len(pieces) == 1:
        return f'{owner} {TTL} IN TXT "{pieces[0]}"'
    inner = "\n".join(f'    "{p}"' for p in pieces)
    return f"{owner} {TTL} IN TXT (\n{inner} )"


def spf_value(identity: ServerIdentity) -> str:
    # Explicit addresses cost no DNS lookup, unlike "mx" (1 + one per MX host).
    if identity.addresses:
        terms = [f"ip{'6' if ':' in a else '4'}:{a}" for a in identity.addresses]
    else:
        terms = ["mx"]
    return " ".join(["v=spf1", *terms, "-all"])


def report_address(identity: ServerIdentity, domain: str) -> str:
    return identity.dmarc_report_address or f"dmarc-reports@{domain}"


def mta_sts_id(identity: ServerIdentity) -> str:
    # Changes exactly when the policy file's mx: lines change.
    return hashlib.sha256(",".join(identity.mx_hosts).encode()).hexdigest()[:20]


def zone_snippet(domain: str, identity: ServerIdentity, dkim_keys: Iterable[PublishedKey]) -> str:
    report = report_address(identity, domain)
    lines = [f"$ORIGIN {domain}.", "; MX: mail for the domain goes to this server"]
    lines += [f"@ {TTL} IN MX {10 * (i + 1)} {host}." for i, host in enumerate(identity.mx_hosts)]
    lines += ["; SPF: only this server may send mail for the domain", _txt("@", spf_value(identity))]
    for key in dkim_keys:
        lines.append(f"; DKIM key {key.selector}")
        lines.append(_txt(f"{key.selector}._domainkey", f"v=DKIM1; k={key.key_type}; p={key.public_key}"))
    lines += ["; DMARC: policy for mail failing SPF and DKIM, and where reports go",
              _txt("_dmarc", f"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:{report}")]
    lines += ["; MTA-STS (recommended): also serve https://mta-sts.%s/.well-known/mta-sts.txt with:" % domain,
              ";   version: STSv1", ";   mode: enforce"]
    lines += [f";   mx: {host}" for host in identity.mx_hosts]
    lines += [";   max_age: 604800", _txt("_mta-sts", f"v=STSv1; id={mta_sts_id(identity)}")]
    lines += ["; TLS-RPT (recommended): where TLS delivery failures are reported",
              _txt("_smtp._tls", f"v=TLSRPTv1; rua=mailto:{report}")]
    if identity.addresses and identity.mx_hosts:
        lines.append("; Reverse DNS: not in this zone; ask your hosting provider for:")
        lines += [f";   {dns.reversename.from_address(a)} PTR {identity.mx_hosts[0]}." for a in identity.addresses]
    return "\n".join(lines) + "\n"
