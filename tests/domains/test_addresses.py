import pytest
from django.core.exceptions import ValidationError

from domains.addresses import (address_display, domain_display, normalize_address, normalize_domain,
                               normalize_local_part)


@pytest.mark.parametrize("raw, expected", [
    ("Example.ORG", "example.org"),
    ("example.org.", "example.org"),
    ("  mail.example.org ", "mail.example.org"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("BÜCHER.example", "xn--bcher-kva.example"),
    ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
    # A trailing full stop in another script is the root's dot too, not an empty label.
    ("例え。テスト。", "xn--r8jz45g.xn--zckzah"), ("ｇｍａｉｌ．com．", "gmail.com"),
])
def test_normalize_domain(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("raw, code", [
    ("", "domain_empty"),
    ("localhost", "domain_not_fqdn"),
    ("exa mple.org", "domain_invalid"),
    ("-bad.example", "domain_invalid"),
    ("bad-.example", "domain_invalid"),
    ("under_score.example", "domain_invalid"),
    ("a..b.example", "domain_invalid"),
    ("192.168.1.1", "domain_invalid"),
    ("x" * 64 + ".example", "domain_invalid"),
    (("a" * 60 + ".") * 5 + "example", "domain_too_long"),
])
def test_normalize_domain_rejects(raw, code):
    with pytest.raises(ValidationError) as exc:
        normalize_domain(raw)
    assert exc.value.code == code


def test_domain_display_shows_unicode():
    assert domain_display("xn--bcher-kva.example") == "bücher.example"
    assert address_display("info@xn--bcher-kva.example") == "info@bücher.example"


@pytest.mark.parametrize("raw, expected", [
    ("John.Doe", "john.doe"), ("x_y-z", "x_y-z"), ("_ops", "_ops"), ("007", "007"), ("a-", "a-"),
])
def test_normalize_local_part(raw, expected):
    assert normalize_local_part(raw) == expected


@pytest.mark.parametrize("raw, code", [
    ("", "local_part_empty"), (".john", "local_part_invalid"), ("john.", "local_part_invalid"),
    ("a+tag", "local_part_delimiter"), ("o'brien", "local_part_unserved"), ("-john", "local_part_unserved"),
    ("jo..hn", "local_part_invalid"), ("jo hn", "local_part_invalid"), ("a/b", "local_part_invalid"),
    ("a@b", "local_part_invalid"), ("é", "local_part_invalid"), ("x" * 65, "local_part_too_long"),
])
def test_normalize_local_part_rejects(raw, code):
    with pytest.raises(ValidationError) as exc:
        normalize_local_part(raw)
    assert exc.value.code == code


def test_normalize_address():
    assert normalize_address(" Info@Bücher.Example ") == "info@xn--bcher-kva.example"
    with pytest.raises(ValidationError) as exc:
        normalize_address("no-at-sign")
    assert exc.value.code == "address_invalid"


