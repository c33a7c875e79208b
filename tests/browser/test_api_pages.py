"""The API tokens page and the interactive API docs in Chromium: a token created, shown once,
used from the docs page (Swagger UI, vendored) under the panel's CSP without a violation."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_panel import log_in
from tests.factories import DomainFactory, SuperadminFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_token_page_and_docs_under_csp(live_server, page, screenshot):
    SuperadminFactory(username="root", email="root@panel.example")
    DomainFactory(name="example.org")
    violations, outside = [], []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(live_server.url) and
            not req.url.startswith("data:") else None)
    log_in(page, live_server.url, "root")

    page.locator("details.account summary").click()  # the account menu folds its links
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("backup script")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"mla_[A-Za-z0-9_-]{40,}", secret)
    screenshot("api-tokens")
    page.reload()
    assert secret not in page.content()

    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("mailadmin API")).to_be_visible(timeout=20000)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    screenshot("api-docs")
    assert not violations, violations
    assert not outside, outside
