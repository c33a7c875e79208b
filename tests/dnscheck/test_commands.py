"""manage.py dnscheck and manage.py dkim."""
import json
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dnscheck import services
from dnscheck.models import DnsCheckRun
from dnscheck.records import zone_snippet
from tests.factories import DomainFactory

from .dns_server import IDENTITY

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_dnscheck_json_gives_the_same_verdicts_as_the_checks(dns_server, dns_settings):
    good = DomainFactory(name="good.test")
    key = services.dkim_key_generate(domain=good, acting_user=None)
    dns_server.publish("good.test", zone_snippet("good.test", IDENTITY, [key]))
    DomainFactory(name="dmarc-typo.cases.test")
    DomainFactory(name="servfail.test")

    report = {entry["domain"]: entry for entry in json.loads(run("dnscheck", "--format", "json"))}

    assert report["good.test"]["status"] == "ok"
    assert {c["check"]: c["status"] for c in report["good.test"]["checks"]}["dkim"] == "ok"
    typo = {c["check"]: c for c in report["dmarc-typo.cases.test"]["checks"]}
    assert typo["dmarc"]["status"] == "error" and "rua=mailto:" in typo["dmarc"]["explanation"]
    assert report["servfail.test"]["status"] == "unknown"
    # Stored like a run from the page: the latest run is the domain's badge.
    assert DnsCheckRun.objects.filter(domain=good).get().status == "ok"


def test_dnscheck_table_for_one_domain(dns_server, dns_settings):
    DomainFactory(name="spf-two.cases.test")
    DomainFactory(name="servfail.test")
    output = run("dnscheck", "--domain", "SPF-TWO.cases.test")
    assert output.startswith("spf-two.cases.test  ERROR")
    assert "SPF                error" in output
    assert "servfail.test" not in output


def test_dnscheck_unknown_domain_is_an_error(dns_settings):
    with pytest.raises(CommandError, match="Unknown domain"):
        run("dnscheck", "--domain", "nowhere.example")


def test_dkim_generate_list_rotate_retire(dns_settings):
    dns_settings.MAILADMIN_DKIM_SELECTOR_FORMAT = "s%Y"
    DomainFactory(name="example.org")
    assert "IN TXT\t\"v=DKIM1; k=rsa; p=" in run("dkim", "generate", "--domain", "example.org")
    assert "k=ed25519" in run("dkim", "rotate", "--domain", "example.org", "--algorithm", "ed25519")
    listing = run("dkim", "list")
    assert listing.count("\tactive") == 2 and "PRIVATE" not in listing
    selector = listing.splitlines()[-1].split("\t")[1]
    run("dkim", "retire", "--domain", "example.org", "--selector", selector)
    assert run("dkim", "list", "--domain", "example.org").count("\tactive") == 1


def test_dkim_export_writes_key_files_0600_and_opendkim_tables(tmp_path, dns_settings):
    dns_settings.MAILADMIN_DKIM_SELECTOR_FORMAT = "k%Y"
    a, b = DomainFactory(name="a.example"), DomainFactory(name="b.example")
    old = services.dkim_key_generate(domain=a, acting_user=None)
    new = services.dkim_key_generate(domain=a, acting_user=None)
    retired = services.dkim_key_generate(domain=b, acting_user=None)
    services.dkim_key_retire(key=retired, acting_user=None)

    output = run("dkim", "export", "--out", str(tmp_path), "--key-dir", "/etc/opendkim/keys")

    assert "2 keys for 1 domains" in output
    key_files = sorted((tmp_path / "keys").iterdir())
    assert {p.name for p in key_files} == {f"a.example.{old.selector}.private", f"a.example.{new.selector}.private"}
    for path in key_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    key_table = (tmp_path / "KeyTable").read_text().splitlines()
    assert f"{new.selector}._domainkey.a.example a.example:{new.selector}:/etc/opendkim/keys/a.example.{new.selector}.private" in key_table
    assert len(key_table) == 2
    assert (tmp_path / "SigningTable").read_text() == f"*@a.example {new.selector}._domainkey.a.example\n"
