"""A mail user in Chromium: log in, change the password (one policy error first), set a
forward, and find every admin page closed."""
import re

import pytest
from playwright.sync_api import expect

from domains import services
from domains.models import Alias
from domains.passwords import verify_argon2id

pytestmark = pytest.mark.django_db(transaction=True)


def test_mail_user_self_service(live_server, page, screenshot):
    domain = services.domain_create(name="home.example", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="lea", password="first passphrase!",
                                      quota_bytes=50 * 1024**2, acting_user=None)
    base = live_server.url
    page.goto(f"{base}/me/")
    page.wait_for_url(re.compile(r"/me/login/"))
    page.get_by_label("E-mail address").fill("lea@home.example")
    page.get_by_label("Password").fill("first passphrase!")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", name="lea@home.example")).to_be_visible()
    screenshot("mailuser-home")

    page.get_by_role("link", name="Password", exact=True).click()   # not "App passwords"
    page.get_by_label("Current password").fill("first passphrase!")
    page.locator("#id_new").fill("short")
    page.locator("#id_new_again").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".errorlist")).to_contain_text("at least 12 characters")
    screenshot("mailuser-password-error")
    page.get_by_label("Current password").fill("first passphrase!")
    page.locator("#id_new").fill("second passphrase!")
    page.locator("#id_new_again").fill("second passphrase!")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(re.compile(r"/me/$"))
    mailbox.refresh_from_db()
    assert verify_argon2id(mailbox.password, "second passphrase!")

    page.get_by_role("link", name="Forwarding").first.click()
    page.get_by_label("Forward my mail to").fill("lea@elsewhere.example")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/me/$"))
    expect(page.locator(".stats")).to_contain_text("lea@elsewhere.example")
    assert Alias.objects.get(mailbox=mailbox).destinations == ["lea@home.example", "lea@elsewhere.example"]
    screenshot("mailuser-forwarding")

    for url in ("/", "/domains/", "/mailboxes/", "/audit/"):
        page.goto(base + url)
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        expect(page.get_by_role("heading", name="Administrator login")).to_be_visible()
