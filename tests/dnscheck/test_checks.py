"""The checks against a real Knot DNS server on loopback (tests/dnscheck/dns_server.py)."""
import base64
from dataclasses import replace
from types import SimpleNamespace

import pytest

from dnscheck import checks
from dnscheck.checks import ERROR, OK, UNKNOWN, WARNING
from dnscheck.records import split_txt, zone_snippet

from .dns_server import IDENTITY, resolver_at

PANEL_KEY = SimpleNamespace(selector="sel", key_type="rsa",
                            public_key=base64.b64encode(b"not the published key").decode())


def by_check(results):
    return {r.check: r for r in results}


# --- A good domain: the records snippet makes every check pass --------------------------

def test_published_snippet_makes_every_check_pass(dns_server, resolver):
    key = SimpleNamespace(selector="good1", key_type="rsa", public_key=base64.b64encode(b"k" * 300).decode())
    dns_server.publish("good.test", zone_snippet("good.test", IDENTITY, [key]))

    results = checks.run_checks(resolver, "good.test", IDENTITY, [key])

    assert {r.check: r.status for r in results} == {
        "mx": OK, "spf": OK, "dkim": OK, "dmarc": OK, "ptr": OK, "mta_sts": OK, "tls_rpt": OK}
    assert checks.overall_status(results) == OK
    spf = by_check(results)["spf"]
    assert spf.records == ["v=spf1 ip4:203.0.113.10 ip6:2001:db8::10 -all"]
    assert "0 of the 10" in spf.explanation and "“-all” (fail)" in spf.explanation


def test_snippet_splits_long_txt_into_255_byte_strings():
    key = SimpleNamespace(selector="s", key_type="rsa", public_key="A" * 600)
    snippet = zone_snippet("example.org", IDENTITY, [key])
    dkim_block = snippet.split("; DKIM key s\n")[1].split("\n;")[0]
    strings = [line.strip().strip('"').rstrip('" )') for line in dkim_block.splitlines()[1:]]
    assert all(len(s.encode()) <= 255 for s in strings)
    assert "".join(strings) == f"v=DKIM1; k=rsa; p={'A' * 600}"
    assert [len(p) for p in split_txt("x" * 600)] == [255, 255, 90]


# --- MX ----------------------------------------------------------------------------------

@pytest.mark.parametrize("domain, status, phrase", [
    ("mx-other.cases.test", ERROR, "not at this server"),
    ("mx-none.cases.test", ERROR, "has no MX record"),
    ("mx-wrongip.cases.test", ERROR, None),
    ("mx-null.cases.test", ERROR, "null MX"),
    ("nx.cases.test", ERROR, "NXDOMAIN"),
])
def test_mx_problems(resolver, domain, status, phrase):
    identity = IDENTITY
    if domain == "mx-wrongip.cases.test":
        identity = replace(IDENTITY, mx_hosts=("wrongip-host.mailhost.test",))
        phrase = "resolves to 198.51.100.7"
    result = checks.check_mx(resolver, domain, identity)
    assert result.status == status
    assert phrase in result.explanation


# --- SPF ---------------------------------------------------------------------------------

def test_spf_two_records_is_an_error(resolver):
    result = checks.check_spf(resolver, "spf-two.cases.test", IDENTITY)
    assert result.status == ERROR
    assert len(result.records) == 2
    assert "exactly one" in result.explanation


def test_spf_eleven_lookups_is_an_error(resolver):
    result = checks.check_spf(resolver, "spf-11.cases.test", IDENTITY)
    assert result.status == ERROR
    assert "takes 11 DNS lookups" in result.explanation
    assert "permerror" in result.explanation


def test_spf_softfail_is_ok_and_explained_as_soft_fail(resolver):
    result = checks.check_spf(resolver, "spf-soft.cases.test", IDENTITY)
    assert result.status == OK
    assert "“~all” (soft fail)" in result.explanation
    assert "not rejected by SPF alone" in result.explanation


@pytest.mark.parametrize("domain", ["spf-include.cases.test", "spf-redirect.cases.test"])
def test_spf_follows_include_and_redirect(resolver, domain):
    result = checks.check_spf(resolver, domain, IDENTITY)
    assert result.status == OK, result.explanation
    assert "2 of the 10" in result.explanation  # include/redirect + a:


def test_spf_mx_mechanism_and_neutral_all(resolver):
    result = checks.check_spf(resolver, "spf-mx.cases.test", IDENTITY)
    assert result.status == WARNING
    assert "“?all” (neutral)" in result.explanation


@pytest.mark.parametrize("domain, phrase", [
    ("spf-notours.cases.test", "does not authorize this server's address 203.0.113.10 (result: fail)"),
    ("spf-typo.cases.test", "“mx=a:testmail.cases.test” is read as an unknown modifier"),
    ("spf-plusall.cases.test", "“+all”"),
    ("spf-syntax.cases.test", "is invalid"),
    ("spf-none.cases.test", "has no SPF record"),
    ("spf-include-missing.cases.test", "without SPF"),
])
def test_spf_problems(resolver, domain, phrase):
    result = checks.check_spf(resolver, domain, IDENTITY)
    assert result.status == ERROR
    assert phrase in result.explanation


def test_spf_include_of_a_servfail_zone_could_not_be_checked(resolver):
    result = checks.check_spf(resolver, "spf-include-servfail.cases.test", IDENTITY)
    assert result.status == UNKNOWN
    assert "SERVFAIL" in result.explanation


# --- DKIM --------------------------------------------------------------------------------

def test_dkim_wrong_key_missing_record_revoked_and_no_key(resolver):
    wrong = checks.check_dkim(resolver, "dkim-wrong.cases.test", [PANEL_KEY])
    assert wrong.status == ERROR and "not the panel's key" in wrong.explanation
    missing = checks.check_dkim(resolver, "mx-other.cases.test", [PANEL_KEY])
    assert missing.status == ERROR and "No DKIM record at sel._domainkey.mx-other.cases.test" in missing.explanation
    revoked = checks.check_dkim(resolver, "dkim-revoked.cases.test", [PANEL_KEY])
    assert revoked.status == ERROR and "revoked" in revoked.explanation
    none = checks.check_dkim(resolver, "dkim-wrong.cases.test", [])
    assert none.status == WARNING and "no DKIM key" in none.explanation


# --- DMARC -------------------------------------------------------------------------------

@pytest.mark.parametrize("domain, status, phrase", [
    ("dmarc-typo.cases.test", ERROR, "write “rua=mailto:dmarc@example.com”"),
    ("dmarc-two.cases.test", ERROR, "2 DMARC records"),
    ("dmarc-dkimpaste.cases.test", ERROR, "appears twice"),
    ("dmarc-monitor.cases.test", WARNING, "p=none"),
    ("dmarc-badpolicy.cases.test", ERROR, "p=block is not a policy"),
    ("dmarc-lower.cases.test", ERROR, "exactly “v=DMARC1”"),
    ("mx-other.cases.test", ERROR, "No DMARC record"),
])
def test_dmarc_problems(resolver, domain, status, phrase):
    result = checks.check_dmarc(resolver, domain, IDENTITY)
    assert result.status == status
    assert phrase in result.explanation


def test_dmarc_bad_policy_reports_every_problem(resolver):
    result = checks.check_dmarc(resolver, "dmarc-badpolicy.cases.test", IDENTITY)
    assert "pct=150" in result.explanation
    assert "rua=https://example.org/r is not a valid report address" in result.explanation


# --- PTR ---------------------------------------------------------------------------------

@pytest.mark.parametrize("address, status, phrase", [
    ("203.0.113.11", ERROR, "has no reverse name"),
    ("203.0.113.12", WARNING, "not the MX host name"),
    ("203.0.113.13", ERROR, "does not resolve back"),
])
def test_ptr_problems(resolver, address, status, phrase):
    result = checks.check_ptr(resolver, replace(IDENTITY, ipv4=(address,), ipv6=()))
    assert result.status == status
    assert phrase in result.explanation


# --- MTA-STS / TLS-RPT -------------------------------------------------------------------

@pytest.mark.parametrize("check, domain, status, phrase", [
    (checks.check_mta_sts, "sts-upper.cases.test", ERROR, "“v=STSV1” is ignored"),
    (checks.check_mta_sts, "sts-noid.cases.test", ERROR, "id="),
    (checks.check_mta_sts, "sts-two.cases.test", ERROR, "2 MTA-STS records"),
    (checks.check_mta_sts, "mx-other.cases.test", WARNING, "Recommended"),
    (checks.check_tls_rpt, "tlsrpt-norua.cases.test", ERROR, "needs a report address"),
    (checks.check_tls_rpt, "tlsrpt-typo.cases.test", ERROR, "not a valid report address"),
    (checks.check_tls_rpt, "mx-other.cases.test", WARNING, "Recommended"),
])
def test_recommendations(resolver, check, domain, status, phrase):
    result = check(resolver, domain, IDENTITY)
    assert result.status == status
    assert result.recommendation
    assert phrase in result.explanation


# --- DNS failures: never a crash, never "ok" ---------------------------------------------

def test_servfail_is_reported_as_could_not_check(resolver):
    results = checks.run_checks(resolver, "servfail.test", IDENTITY, [PANEL_KEY])
    domain_checks = [r for r in results if r.check != "ptr"]
    assert {r.status for r in domain_checks} == {UNKNOWN}
    assert all("SERVFAIL" in r.explanation for r in domain_checks)


def test_nxdomain_is_an_error_not_ok(resolver):
    results = by_check(checks.run_checks(resolver, "nx.cases.test", IDENTITY, [PANEL_KEY]))
    assert results["mx"].status == ERROR and "NXDOMAIN" in results["mx"].explanation
    assert results["spf"].status == ERROR
    assert results["dmarc"].status == ERROR


def test_timeout_is_reported_as_could_not_check(silent_server):
    resolver = resolver_at(silent_server.port, lifetime=0.3)
    results = checks.run_checks(resolver, "good.test", IDENTITY, [PANEL_KEY])
    assert {r.status for r in results} == {UNKNOWN}
    assert all("timed out" in r.explanation for r in results)
    assert checks.overall_status(results) == UNKNOWN


def test_truncated_answer_without_tcp_is_reported(truncating_server):
    resolver = resolver_at(truncating_server.port, lifetime=1.0)
    result = checks.check_dmarc(resolver, "good.test", IDENTITY)
    assert result.status == UNKNOWN
    assert "truncated" in result.explanation


def test_refused_zone_is_reported(resolver):
    result = checks.check_mx(resolver, "not-served.example", IDENTITY)
    assert result.status == UNKNOWN
    assert "refused" in result.explanation


def test_large_record_is_read_over_tcp_after_truncation(dns_server):
    """A 4 KB TXT does not fit in UDP: the resolver retries over TCP and gets it."""
    key = SimpleNamespace(selector="big", key_type="rsa", public_key=base64.b64encode(b"b" * 3000).decode())
    dns_server.publish("good.test", f'big._domainkey 60 IN TXT {" ".join(chr(34) + s + chr(34) for s in split_txt(f"v=DKIM1; k=rsa; p={key.public_key}"))}\n')
    resolver = dns_server.resolver()
    resolver.use_edns(0, 0, 512)
    assert checks.check_dkim(resolver, "good.test", [key]).status == OK


def test_an_unexpected_failure_is_could_not_check_not_a_crash(resolver, caplog):
    misconfigured = replace(IDENTITY, mx_hosts=())  # no MX host name configured at all
    result = checks.check_mx(resolver, "mx-none.cases.test", misconfigured)
    assert result.status == UNKNOWN
    assert "failed unexpectedly" in result.explanation
    assert "DNS check mx failed" in caplog.text
