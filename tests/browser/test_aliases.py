import re

import pytest
from playwright.sync_api import expect

from domains.models import Alias
from tests.factories import TEST_PASSWORD, AdminFactory, DomainFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_creates_aliases_toggles_one_and_reads_the_audit_log(live_server, page, screenshot):
    domain = DomainFactory(name="example.org")
    AdminFactory(username="alice", domains=[domain])

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))

    # An alias with two destinations; the form says whether the address is free as it is typed.
    page.goto(f"{live_server.url}/aliases/new/")
    page.get_by_label("Domain").select_option(label="example.org")
    page.get_by_label("Address name").press_sequentially("team", delay=20)
    expect(page.locator("#address-check")).to_have_text("team@example.org is free.")
    page.get_by_label("Destinations").fill("ann@elsewhere.example\nben@elsewhere.example")
    page.get_by_role("button", name="Create alias").click()
    page.wait_for_url(re.compile(rf"/domains/{domain.pk}/aliases/$"))
    expect(page.locator("#alias-table")).to_contain_text("team@example.org")

    # The domain's catch-all.
    page.goto(f"{live_server.url}/aliases/new/?domain={domain.pk}")
    page.get_by_label("Catch-all").check()
    page.get_by_label("Destinations").fill("ann@elsewhere.example")
    page.get_by_role("button", name="Create alias").click()
    page.wait_for_url(re.compile(rf"/domains/{domain.pk}/aliases/$"))
    expect(page.locator("#alias-table")).to_contain_text("catch-all")
    assert Alias.objects.get(address="team@example.org").destinations == [
        "ann@elsewhere.example", "ben@elsewhere.example"]

    # Deactivate the alias from the list: htmx swaps the row in place.
    team = Alias.objects.get(address="team@example.org")
    toggle = page.locator(f"#alias-{team.pk} button[role=switch]")
    expect(toggle).to_have_attribute("aria-checked", "true")
    page.evaluate("window.notReloaded = true")
    # Deactivating stops mail: the browser asks first, saying where the mail goes now.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    toggle.click()
    expect(page.locator(f"#alias-{team.pk} button[role=switch]")).to_have_attribute("aria-checked", "false")
    assert "refuses the mail sent to it" in dialogs[0]
    assert page.evaluate("window.notReloaded") is True
    team.refresh_from_db()
    assert not team.active

    # Search as you type narrows the table and keeps the filter in the address bar.
    page.get_by_label("Search").press_sequentially("tea", delay=20)
    expect(page.locator("#alias-table tbody tr")).to_have_count(1)
    assert "q=tea" in page.url
    page.get_by_label("Search").fill("")
    expect(page.locator("#alias-table tbody tr")).to_have_count(2)
    screenshot("alias-list")

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(re.compile(r"/audit/$"))
    table = page.locator("#audit-table")
    expect(table).to_contain_text("Alias created")
    expect(table).to_contain_text("Alias changed")
    expect(table).to_contain_text("@example.org")
    screenshot("audit-log")
    page.get_by_label("Action").select_option("alias.update")
    expect(table.locator("tbody tr.entry")).to_have_count(1)
