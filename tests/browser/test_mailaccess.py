"""App passwords and send-as grants in Chromium: a mail user creates one (shown once) and revokes
it; a domain admin creates one in place of the form (htmx) and is refused an outside address."""
import hashlib
import re

import pytest
from playwright.sync_api import expect

from domains import services
from mailaccess.models import AppPassword, SenderGrant
from tests.browser.test_panel import log_in
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_mail_user_app_password(live_server, page, screenshot):
    domain = services.domain_create(name="home.example", acting_user=None)
    services.mailbox_create(domain=domain, local_part="lea", password="first passphrase!", acting_user=None)
    page.goto(f"{live_server.url}/me/login/")
    page.get_by_label("E-mail address").fill("lea@home.example")
    page.get_by_label("Password").fill("first passphrase!")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/me/$"))
    page.get_by_role("link", name="App passwords").click()
    page.get_by_label("Name").fill("phone")
    page.get_by_label("IMAP").check()
    page.get_by_role("button", name="Create app password").click()
    secret = page.locator("#app-password-secret").inner_text()
    assert AppPassword.objects.get().secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    expect(page.locator("table")).to_contain_text("IMAP")
    screenshot("mailuser-app-password")
    page.reload()   # a GET: never shown again
    expect(page.locator("#app-password-secret")).to_have_count(0)
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("table")).to_contain_text("revoked")
    assert not AppPassword.objects.get().active
    page.get_by_role("link", name="Send as").click()
    expect(page.locator(".plain")).to_contain_text("lea@home.example")


def test_domain_admin_mailbox_page(live_server, page, screenshot):
    domain = services.domain_create(name="example.org", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="john", password="first passphrase!",
                                      acting_user=None)
    admin = AdminFactory(username="alice", domains=[domain])
    log_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/mailboxes/{mailbox.pk}/")
    page.get_by_role("link", name="New app password").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create app password").click()
    expect(page.locator("#app-password-shown")).to_be_visible()
    assert page.locator("#app-password-secret").inner_text().count("-") == 3
    page.get_by_role("link", name="Done").click()
    expect(page.locator("section[aria-labelledby=app-passwords-title]")).to_contain_text("laptop")

    page.get_by_role("link", name="Grant another address").click()
    page.get_by_label("Address").fill("someone@gmail.com")
    page.get_by_role("button", name="Grant").click()
    expect(page.locator(".errorlist")).to_contain_text("only addresses of the domains you manage")
    page.get_by_label("Address").fill("sales@example.org")
    page.get_by_role("button", name="Grant").click()
    page.wait_for_url(re.compile(rf"/mailboxes/{mailbox.pk}/$"))
    expect(page.get_by_text("granted by an administrator")).to_be_visible()
    assert list(SenderGrant.objects.values_list("address", flat=True)) == ["sales@example.org"]
    screenshot("mailbox-access")
