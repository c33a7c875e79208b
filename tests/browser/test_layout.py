"""Every main page at 1280 px and 390 px, in English and French: no horizontal overflow, no
console error (the CSP reports there), one top bar (no page inside the page), and a
screenshot in test-artifacts/ to look at. Then the htmx flows that once nested a page or
switched a domain off in one click."""
import re

import pytest
from playwright.sync_api import expect

from audit.services import audit_record
from domains import services
from domains.models import Domain, Mailbox
from tests.factories import TEST_PASSWORD, AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"wide": 1280, "phone": 390}
LONG_LOCAL = "a-very-long-local-part-that-takes-the-whole-sixty-four-chars-xyz"  # 64 characters


def seed():
    root = SuperadminFactory(username="root", email="root@panel.example")
    domain = DomainFactory(name="shop.example", max_mailboxes=3)
    anna = MailboxFactory(domain=domain, local_part="anna", name="Anna Example")
    MailboxFactory(domain=domain, local_part=LONG_LOCAL)
    MailboxFactory(domain=domain, local_part="bruno")
    services.mailbox_set_forwarding(mailbox=anna, destinations=["anna@elsewhere.example"], keep_copy=True,
                                    acting_user=root)
    AliasFactory(domain=domain, address="team@shop.example",
                 destinations=["anna@shop.example", f"{LONG_LOCAL}@shop.example"])
    AliasDomainFactory(name="shop-alias.example", target=domain)
    services.mailbox_update(mailbox=Mailbox.objects.get(local_part=LONG_LOCAL), quota_bytes=2 * 1024**3,
                            acting_user=root)
    audit_record(actor=root, action="dkim.generate", object_type="dkimkey", object_repr="s1._domainkey.shop.example",
                 domain_name="shop.example", after={"selector": "s1", "algorithm": "ed25519"})
    return root, domain, anna


def open_session(page, base, lang, width):
    """A logged-in superadmin in `lang` at `width`; returns the list console errors go to."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    return errors


def check_page(page, errors, screenshot, name):
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(name)
    assert scroll <= inner, f"{name}: the page is {scroll} px wide in a {inner} px window"
    assert page.locator("header.topbar").count() == 1, f"{name}: a page inside the page"
    assert not errors, f"{name}: console errors {errors}"


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_main_pages_fit_the_screen(live_server, page, screenshot, lang, size):
    root, domain, anna = seed()
    base = live_server.url
    errors = open_session(page, base, lang, WIDTHS[size])
    pages = {
        "dashboard": "/", "domains": "/domains/", "domain": f"/domains/{domain.pk}/",
        "domain-edit": f"/domains/{domain.pk}/edit/", "mailboxes": f"/domains/{domain.pk}/mailboxes/",
        "mailbox": f"/mailboxes/{anna.pk}/", "mailbox-edit": f"/mailboxes/{anna.pk}/edit/",
        "mailbox-new": f"/domains/{domain.pk}/mailboxes/new/", "forwarding": f"/mailboxes/{anna.pk}/forwarding/",
        "aliases": "/aliases/", "alias-new": f"/aliases/new/?domain={domain.pk}", "alias-domains": "/alias-domains/",
        "quota": "/quota/", "audit": "/audit/", "admins": "/accounts/admins/", "admin-new": "/accounts/admins/new/",
        "dns": f"/dns/{domain.pk}/", "import": "/import/",
    }
    for name, path in pages.items():
        page.goto(base + path)
        check_page(page, errors, screenshot, f"layout-{lang}-{size}-{name}")
    if size == "phone":
        # The menu folds behind one button and opens on a tap.
        toggle = page.locator(".menu-toggle")
        expect(toggle).to_be_visible()
        expect(page.locator(".mainnav")).to_be_hidden()
        toggle.click()
        expect(page.locator(".mainnav")).to_be_visible()
        check_page(page, errors, screenshot, f"layout-{lang}-{size}-menu-open")
    else:
        # One line of menu at 1280 px: every link at the same height.
        tops = page.locator(".mainnav a").evaluate_all("links => links.map(a => a.getBoundingClientRect().top)")
        assert len(set(tops)) == 1, f"the menu wraps: {tops}"


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_login_pages_and_mail_user_page_fit_and_switch_language(live_server, page, screenshot, lang, size):
    seed()
    base = live_server.url
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": WIDTHS[size], "height": 900})
    other = {"en": "Français", "fr": "English"}
    for path in ("/accounts/login/", "/me/login/"):
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "django_language", "value": "fr" if lang == "en" else "en", "url": base}])
        page.goto(base + path)
        # The switch works before anyone logs in (it once sent back to the login page in English).
        page.get_by_role("button", name=other["fr" if lang == "en" else "en"]).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        check_page(page, errors, screenshot, f"login-{lang}-{size}-{path.strip('/').replace('/', '-')}")
    page.fill("input[name=address]", "anna@shop.example")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/me/$"))
    check_page(page, errors, screenshot, f"me-{lang}-{size}")
    # Its own address is the kept copy, not a forwarding destination.
    stat = page.locator(".stat", has=page.locator("dt", has_text=re.compile("Forwarding|Transfert")))
    expect(stat).to_contain_text("anna@elsewhere.example")
    expect(stat).not_to_contain_text("anna@shop.example")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_generated_password_replaces_the_form(live_server, page, screenshot, size):
    root, domain, anna = seed()
    domain.max_mailboxes = 0
    domain.save()
    errors = open_session(page, live_server.url, "en", WIDTHS[size])
    page.goto(f"{live_server.url}/domains/{domain.pk}/mailboxes/new/")
    page.get_by_label("Address name").fill("carla")
    page.get_by_label("Generate a password (shown once)").check()
    page.get_by_role("button", name="Create mailbox").click()
    expect(page.locator("#generated-password")).to_be_visible()
    check_page(page, errors, screenshot, f"flow-{size}-generated-password")
    assert page.locator("form#mailbox-form").count() == 0


def test_deactivating_a_domain_asks_with_counts(live_server, page, screenshot):
    root, domain, anna = seed()
    errors = open_session(page, live_server.url, "en", 1280)
    page.goto(f"{live_server.url}/domains/")
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss() if len(dialogs) == 1 else dialog.accept()

    page.on("dialog", answer)
    switch = page.locator(f"#domain-{domain.pk}").get_by_role("switch")
    switch.click()  # dismissed: nothing changes
    page.wait_for_timeout(300)
    assert dialogs and "3 mailboxes and 1 alias" in dialogs[0]
    domain.refresh_from_db()
    assert domain.active
    switch.click()  # accepted
    expect(page.locator(f"#domain-{domain.pk}").get_by_role("switch")).to_have_text("Inactive")
    assert not Domain.objects.get(pk=domain.pk).active
    check_page(page, errors, screenshot, "flow-domain-deactivated")


def test_full_domain_and_mailbox_page_and_rename(live_server, page, screenshot):
    root, domain, anna = seed()
    errors = open_session(page, live_server.url, "en", 1280)
    page.goto(f"{live_server.url}/domains/{domain.pk}/")
    expect(page.locator("#new-mailbox")).to_have_text("New mailbox: 3 of 3 used")
    expect(page.locator("#mailbox-usage")).to_contain_text("3 of 3 mailboxes used.")
    check_page(page, errors, screenshot, "flow-full-domain")
    page.goto(f"{live_server.url}/mailboxes/{anna.pk}/")
    expect(page.get_by_role("heading", name="anna@shop.example")).to_be_visible()
    expect(page.locator("section", has_text="Aliases that reach it")).to_contain_text("team@shop.example")
    page.get_by_role("link", name="Rename").click()
    page.get_by_label("New address name").fill("annabelle")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_url(re.compile(rf"/mailboxes/{anna.pk}/$"))
    expect(page.get_by_role("heading", name="annabelle@shop.example")).to_be_visible()
    expect(page.locator("section", has_text="Recent changes")).to_contain_text("Mailbox renamed")
    check_page(page, errors, screenshot, "flow-mailbox-renamed")
    anna.refresh_from_db()
    assert anna.address == "annabelle@shop.example" and anna.maildir == "shop.example/anna/"


@pytest.mark.parametrize("size", list(WIDTHS))
def test_bulk_deactivate_two_mailboxes(live_server, page, screenshot, size):
    root, domain, anna = seed()
    errors = open_session(page, live_server.url, "en", WIDTHS[size])
    page.goto(f"{live_server.url}/domains/{domain.pk}/mailboxes/")
    page.get_by_label("Select anna@shop.example").check()
    page.get_by_label("Select bruno@shop.example").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.locator("select[name=action]").select_option("deactivate")
    check_page(page, errors, screenshot, f"flow-{size}-bulk-selected")
    page.get_by_role("button", name="Apply…").click()
    expect(page.locator("#bulk-confirm")).to_contain_text("2 mailboxes")
    check_page(page, errors, screenshot, f"flow-{size}-bulk-confirm")
    page.locator("#bulk-confirm").get_by_role("button", name="Deactivate").click()
    expect(page.locator(".message")).to_contain_text("Deactivate: 2 rows done.")
    assert set(Mailbox.objects.filter(active=False).values_list("local_part", flat=True)) == {"anna", "bruno"}
    check_page(page, errors, screenshot, f"flow-{size}-bulk-done")


def test_import_dry_run_then_commit_downloads_passwords(live_server, page, screenshot, tmp_path):
    seed()
    errors = open_session(page, live_server.url, "fr", 1280)
    path = tmp_path / "new.csv"
    path.write_text("type,address,name,quota,password,destinations,active\n"
                    "mailbox,zoe@shop-import.example,Zoé,1G,,,yes\n"
                    "alias,list@shop-import.example,,,,zoe@shop-import.example,yes\n")
    services.domain_create(name="shop-import.example", acting_user=None)
    page.goto(f"{live_server.url}/import/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.locator("form[enctype] button[type=submit]").click()
    expect(page.locator("#import-result")).to_contain_text("2")
    check_page(page, errors, screenshot, "flow-import-dry-run-fr")
    assert not Mailbox.objects.filter(address="zoe@shop-import.example").exists()
    with page.expect_download() as download:
        page.locator("#import-result button[type=submit]").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0] == "address,password" and "zoe@shop-import.example," in text
    assert Mailbox.objects.filter(address="zoe@shop-import.example").exists()


def test_page_size_choice_is_remembered(live_server, page, screenshot):
    root, domain, anna = seed()
    for n in range(30):
        AliasFactory(domain=domain, address=f"list{n:02d}@shop.example")
    errors = open_session(page, live_server.url, "en", 390)
    page.goto(f"{live_server.url}/aliases/")
    expect(page.locator("#alias-table tbody tr")).to_have_count(25)
    page.get_by_label("Rows per page").select_option("50")
    expect(page.locator("#alias-table tbody tr")).to_have_count(31)
    page.goto(f"{live_server.url}/aliases/")
    expect(page.locator("#alias-table tbody tr")).to_have_count(31)
    check_page(page, errors, screenshot, "flow-page-size-phone")


def test_every_filter_select_applies_at_once(live_server, page, screenshot):
    seed()
    errors = open_session(page, live_server.url, "en", 1280)
    page.goto(f"{live_server.url}/quota/")
    # The second select of the bar ("Show") once waited for a Filter click.
    with page.expect_response(lambda response: "filter=unlimited" in response.url):
        page.get_by_label("Show").select_option("unlimited")
    expect(page.locator("#usage-table")).to_contain_text("anna@shop.example")
    expect(page.locator("#usage-table")).not_to_contain_text(LONG_LOCAL)  # it has a 2G quota
    check_page(page, errors, screenshot, "flow-quota-filter")
