"""SPF parsing and macro expansion (no DNS involved)."""
import ipaddress

import pytest

from dnscheck import spf


def test_parse_mechanisms_with_cidrs_and_modifiers():
    terms = spf.parse("v=spf1 ip6:2001:db8::/32 a/24//64 ~mx:example.org redirect=_spf.example.org exp=x.%{d}")
    assert [(t.qualifier, t.name, t.argument, t.cidr4, t.cidr6) for t in terms] == [
        ("+", "ip6", "2001:db8::", 32, None),
        ("+", "a", None, 24, 64),
        ("~", "mx", "example.org", None, None),
        ("", "redirect", "_spf.example.org", None, None),
        ("", "exp", "x.%{d}", None, None),
    ]
    assert spf.ip_network(terms[0]) == ipaddress.ip_network("2001:db8::/32")


@pytest.mark.parametrize("record", [
    "v=spf1 ip4:203.0.113.1/33 -all",
    "v=spf1 ip4:2001:db8::1 -all",
    "v=spf1 include -all",
    "v=spf1 all:example.org",
    "v=spf1 foo:example.org -all",
    "v=spf1 redirect=a.example redirect=b.example",
    "v=spf1 a//129",
    "spf1 -all",
])
def test_invalid_records_are_permerrors(record):
    with pytest.raises(spf.SpfPermError):
        spf.parse(record)


def test_is_spf_record_needs_exactly_the_version_term():
    assert spf.is_spf_record("v=spf1 -all") and spf.is_spf_record("V=SPF1")
    assert not spf.is_spf_record("v=spf10 -all") and not spf.is_spf_record("v=spf2.0/pra -all")


@pytest.mark.parametrize("spec, expected", [
    ("%{i}._spf.%{d}", "203.0.113.7._spf.example.org"),
    ("%{ir}.%{v}.arpa", "7.113.0.203.in-addr.arpa"),
    ("%{d2}", "example.org"),
    ("%{l}.%{o}", "postmaster.example.org"),
    ("a%%b%_c%-d", "a%b c%20d"),
])
def test_macro_expansion(spec, expected):
    ip = ipaddress.ip_address("203.0.113.7")
    assert spf.expand(spec, ip=ip, domain="mail.example.org" if spec == "%{d2}" else "example.org",
                      sender_domain="example.org", helo="mx.example.org") == expected


def test_invalid_macro_is_a_permerror():
    with pytest.raises(spf.SpfPermError):
        spf.expand("%{x}.example.org", ip=ipaddress.ip_address("192.0.2.1"), domain="example.org",
                   sender_domain="example.org", helo="h")
