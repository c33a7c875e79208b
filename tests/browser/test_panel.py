"""The main admin flow in Chromium: log in, create a domain, a mailbox and an alias, search,
toggle, hit a limit, switch to French; and a domain admin kept out of another domain."""
import re

import pytest
from playwright.sync_api import expect

from domains.models import Domain, Mailbox
from tests.factories import TEST_PASSWORD, AdminFactory, DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def test_superadmin_main_flow(live_server, page, screenshot):
    SuperadminFactory(username="root", email="root@panel.example")
    base = live_server.url
    log_in(page, base, "root")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    screenshot("dashboard")

    # A domain with a mailbox limit of 2, and the RFC 2142 aliases.
    page.goto(f"{base}/domains/new/")
    page.get_by_label("Domain name").fill("shop.example")
    page.get_by_label("Maximum mailboxes").fill("2")
    page.get_by_label("Default mailbox quota").fill("1G")
    page.get_by_label("Role addresses deliver to").fill("owner@elsewhere.example")
    screenshot("domain-form")
    page.get_by_role("button", name="Create domain").click()
    page.wait_for_url(re.compile(r"/domains/\d+/$"))
    domain = Domain.objects.get(name="shop.example")
    expect(page.get_by_role("heading", name="shop.example")).to_be_visible()
    screenshot("domain-detail")

    # Two mailboxes; the address check answers on blur; the third hits the limit.
    for name in ("anna", "bruno"):
        page.goto(f"{base}/domains/{domain.pk}/mailboxes/new/")
        page.get_by_label("Address name").fill(name)
        page.get_by_label("Display name").click()
        expect(page.locator("#address-check")).to_have_text(f"{name}@shop.example is free.")
        page.locator("#id_password").fill("a long enough passphrase")
        page.locator("#id_password_confirm").fill("a long enough passphrase")
        page.get_by_role("button", name="Create mailbox").click()
        page.wait_for_url(re.compile(rf"/domains/{domain.pk}/mailboxes/$"))
    # A full domain says so before the form is filled, on the button and the page.
    page.goto(f"{base}/domains/{domain.pk}/mailboxes/new/")
    expect(page.locator("#mailbox-usage")).to_contain_text("2 of 2 mailboxes used.")
    expect(page.get_by_role("button", name="Mailbox limit reached: 2 of 2 used")).to_be_disabled()
    screenshot("mailbox-limit-error")
    assert Mailbox.objects.filter(domain=domain).count() == 2

    # An alias to both.
    page.goto(f"{base}/aliases/new/?domain={domain.pk}")
    page.get_by_label("Address name").fill("team")
    page.get_by_label("Destinations").fill("anna@shop.example\nbruno@shop.example")
    page.get_by_role("button", name="Create alias").click()
    page.wait_for_url(re.compile(rf"/domains/{domain.pk}/aliases/$"))

    # Search as you type, then toggle a mailbox inline.
    page.goto(f"{base}/mailboxes/")
    with page.expect_response(lambda response: "q=brun&" in response.url):  # the last keystroke's search
        page.get_by_label("Search").press_sequentially("brun", delay=30)
    expect(page.locator("#mailbox-table tbody tr")).to_have_count(1)
    expect(page.locator("#mailbox-table")).to_contain_text("bruno@shop.example")
    toggle = page.locator("#mailbox-table tbody tr").first.get_by_role("switch")
    page.once("dialog", lambda dialog: dialog.accept())  # deactivating asks first
    toggle.click()
    expect(page.locator("#mailbox-table tbody tr").first.get_by_role("switch")).to_have_text("Inactive")
    assert not Mailbox.objects.get(address="bruno@shop.example").active
    screenshot("mailbox-list")

    # French.
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("link", name="Boîtes aux lettres")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    screenshot("mailbox-list-fr")


def test_domain_admin_cannot_reach_another_domain(live_server, page, screenshot):
    mine, theirs = DomainFactory(name="mine.example"), DomainFactory(name="theirs.example")
    MailboxFactory(domain=theirs, local_part="hidden")
    AdminFactory(username="alice", domains=[mine])
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/domains/")
    expect(page.locator("#domain-table")).to_contain_text("mine.example")
    expect(page.locator("#domain-table")).not_to_contain_text("theirs.example")
    response = page.goto(f"{live_server.url}/domains/{theirs.pk}/mailboxes/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.goto(f"{live_server.url}/mailboxes/?q=hidden")
    expect(page.locator("#mailbox-table")).not_to_contain_text("hidden@theirs.example")
    screenshot("domain-admin-scope")
