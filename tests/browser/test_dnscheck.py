"""The DNS page in Chromium, for a good and a broken domain, checked against the loopback
Knot server; `manage.py dnscheck` must give the same verdicts as the page."""
import json
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from dnscheck import services
from dnscheck.records import zone_snippet
from tests.dnscheck.dns_server import IDENTITY
from tests.dnscheck.fixtures import dns_server, dns_settings, silent_server  # noqa: F401
from tests.factories import TEST_PASSWORD, AdminFactory, DomainFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, admin):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(admin.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def run_checks_in_page(page, live_server, domain) -> dict[str, str]:
    page.goto(f"{live_server.url}/dns/{domain.pk}/")
    expect(page.get_by_text("has not been checked yet")).to_be_visible()
    with page.expect_response(lambda response: "/check/" in response.url) as check:
        page.get_by_role("button", name="Run the checks").click()
    assert check.value.request.headers.get("hx-request") == "true"  # swapped in by htmx, no reload
    rows = page.locator("#check-results tr.dns-check")
    expect(rows).to_have_count(7)
    return {row.get_attribute("data-check"): row.locator(".dns-status").get_attribute("class").split("--")[1]
            for row in rows.all()}


def command_verdicts(domain) -> dict[str, str]:
    out = StringIO()
    call_command("dnscheck", "--domain", domain.name, "--format", "json", stdout=out)
    return {c["check"]: c["status"] for c in json.loads(out.getvalue())[0]["checks"]}


def test_good_domain_page_passes_every_check(live_server, page, screenshot, dns_server, dns_settings):  # noqa: F811
    domain = DomainFactory(name="good.test")
    admin = AdminFactory(domains=[domain])
    key = services.dkim_key_generate(domain=domain, acting_user=admin)
    dns_server.publish("good.test", zone_snippet("good.test", IDENTITY, [key]))
    log_in(page, live_server, admin)

    verdicts = run_checks_in_page(page, live_server, domain)

    assert set(verdicts.values()) == {"ok"}
    expect(page.locator(".dns-summary")).to_contain_text("OK")
    expect(page.locator("#zone-snippet")).to_contain_text(f"{key.selector}._domainkey")
    page.get_by_role("button", name="Copy the records").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    screenshot("dns-good-domain")
    assert command_verdicts(domain) == verdicts


def test_broken_domain_page_explains_each_problem(live_server, page, screenshot, dns_server, dns_settings):  # noqa: F811
    domain = DomainFactory(name="broken.cases.test")
    admin = AdminFactory(domains=[domain])
    log_in(page, live_server, admin)

    verdicts = run_checks_in_page(page, live_server, domain)

    assert verdicts == {"mx": "error", "spf": "error", "dkim": "warning", "dmarc": "error", "ptr": "ok",
                        "mta_sts": "error", "tls_rpt": "warning"}
    results = page.locator("#check-results")
    expect(results).to_contain_text("not at this server")
    expect(results).to_contain_text("2 SPF records")
    expect(results).to_contain_text("rua=mailto:dmarc@example.com")
    expect(results).to_contain_text("“v=STSV1” is ignored")
    screenshot("dns-broken-domain")

    # Generate a key from the page: it shows up, its private key never does.
    page.get_by_label("Algorithm").select_option("ed25519")
    page.get_by_role("button", name="Generate a key").click()
    expect(page.locator(".dkim-key")).to_have_count(1)
    assert "PRIVATE KEY" not in page.content()
    assert command_verdicts(domain) == {**verdicts, "dkim": "error"}  # the new key is not published yet


def test_progress_indicator_then_could_not_check_when_dns_times_out(
        live_server, page, screenshot, dns_settings, silent_server):  # noqa: F811
    dns_settings.MAILADMIN_DNS_PORT = silent_server.port
    dns_settings.MAILADMIN_DNS_TIMEOUT = 0.75
    domain = DomainFactory(name="good.test")
    admin = AdminFactory(domains=[domain])
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/dns/{domain.pk}/")
    indicator = page.locator("#check-progress")
    expect(indicator).to_be_hidden()

    page.get_by_role("button", name="Run the checks").click()
    expect(indicator).to_be_visible()
    expect(page.get_by_role("button", name="Run the checks")).to_be_disabled()
    screenshot("dns-checking")
    expect(page.locator("#check-results tr.dns-check")).to_have_count(7)
    expect(indicator).to_be_hidden()
    expect(page.locator(".dns-status--unknown")).to_have_count(6)  # DKIM: no key, nothing to ask
    expect(page.locator("#check-results")).to_contain_text("timed out")
