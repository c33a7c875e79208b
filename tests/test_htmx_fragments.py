"""Every htmx request the panel's pages can make answers with a fragment for its target, or a
client redirect: never a whole page swapped inside the page (issue 16, defect 1).

The requests are not listed by hand: a crawler logs in, follows every link of the panel,
and collects every element with hx-get or hx-post as the browser would send it (the
enclosing form's fields, hx-vals, the HX-Target header). Each is then sent as htmx sends
it, and a second time with every checkbox of its form ticked and empty text filled in, which
is how "Generate a password" once returned a whole page into the mailbox form.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.test import Client

from tests.dnscheck.fixtures import dns_server, dns_settings  # noqa: F401 (fixtures: no system resolver)
from domains.models import QuotaUsage
from tests.factories import AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db

PAGE_MARKERS = ("<html", "<body", 'class="topbar"', 'class="mainnav"')
# Links the crawler does not follow: leaving the admin panel, or downloads that are not pages.
SKIP_PREFIXES = ("/me/", "/static/", "/quota/export", "/i18n/", "/healthz", "/favicon")


@dataclass
class HtmxRequest:
    method: str
    url: str
    target: str
    data: dict = field(default_factory=dict)
    checkboxes: tuple[str, ...] = ()
    empty_text: tuple[str, ...] = ()
    page: str = ""


class _Form:
    def __init__(self, attrs: dict):
        self.attrs = attrs
        self.data: dict[str, str] = {}
        self.checkboxes: list[str] = []
        self.empty_text: list[str] = []
        self.elements: list[dict] = []


class PageParser(HTMLParser):
    """Links and htmx elements of one page, with the fields of the form around each."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.elements: list[tuple[dict, _Form | None]] = []
        self.forms: list[_Form] = []
        self._form: _Form | None = None
        self._textarea: tuple[str, str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "a" and attrs.get("href", "").startswith("/"):
            self.links.append(attrs["href"])
        if tag == "form":
            self._form = _Form(attrs)
            self.forms.append(self._form)
        form = self._form
        if form is not None and attrs.get("name") and not attrs.get("form"):
            name, kind = attrs["name"], attrs.get("type", "text")
            if tag == "input" and kind == "checkbox":
                form.checkboxes.append(name)
                if "checked" in attrs:
                    form.data[name] = attrs.get("value", "on")
            elif tag == "input" and kind not in ("submit", "button", "radio"):
                form.data[name] = attrs.get("value", "")
                if not attrs.get("value") and kind in ("text", "search", "email", "password"):
                    form.empty_text.append(name)
            elif tag == "input" and kind == "radio" and "checked" in attrs:
                form.data[name] = attrs.get("value", "")
            elif tag == "textarea":
                self._textarea = (name, "")
            elif tag == "select":
                self._select = name
        if tag == "option" and self._select and form is not None:
            if "selected" in attrs or self._select not in form.data:
                form.data[self._select] = attrs.get("value", "")
        if "hx-get" in attrs or "hx-post" in attrs:
            self.elements.append((attrs, form))

    def handle_data(self, data):
        if self._textarea:
            self._textarea = (self._textarea[0], self._textarea[1] + data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea and self._form is not None:
            name, text = self._textarea
            self._form.data[name] = text.strip()
            if not text.strip():
                self._form.empty_text.append(name)
            self._textarea = None
        if tag == "select":
            self._select = None
        if tag == "form":
            self._form = None


def _requests_of(page_url: str, parser: PageParser) -> list[HtmxRequest]:
    found = []
    for attrs, form in parser.elements:
        method = "post" if "hx-post" in attrs else "get"
        url = urljoin(page_url, attrs.get("hx-post") or attrs.get("hx-get"))  # relative, as htmx resolves it
        target = attrs.get("hx-target", "")
        if target == "this":
            target = attrs.get("id", "")
        target = target[1:] if target.startswith("#") else ("" if " " in target else target)
        data = dict(form.data) if form is not None else {}
        if attrs.get("hx-vals"):
            data.update(json.loads(attrs["hx-vals"]))
        found.append(HtmxRequest(method, url, target, data, tuple(form.checkboxes) if form else (),
                                 tuple(form.empty_text) if form else (), page_url))
    return found


def crawl(client: Client, start: str = "/", limit: int = 200) -> tuple[list[str], list[HtmxRequest]]:
    """Every panel page reachable from `start` by links, and the htmx requests they can make."""
    seen, queue, pages, requests = {start}, [start], [], []
    while queue and len(pages) < limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages.append(url)
        parser = PageParser()
        parser.feed(response.content.decode())
        requests += _requests_of(url, parser)
        for link in parser.links:
            link = link.split("#")[0]
            # One page of each kind is enough: no pagination, sorting or search variants.
            path = urlsplit(link).path
            if link and not link.startswith(SKIP_PREFIXES) and path not in {urlsplit(s).path for s in seen}:
                seen.add(link)
                queue.append(link)
    return pages, requests


def send(client: Client, request: HtmxRequest, data: dict):
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{request.page}"}
    if request.target:
        headers["HX-Target"] = request.target
    if request.method == "get":
        query = dict(parse_qsl(urlsplit(request.url).query)) | data
        return client.get(urlsplit(request.url).path, query, headers=headers)
    return client.post(request.url, data, headers=headers)


def assert_fragment(response, request: HtmxRequest, variant: str) -> None:
    where = f"{request.method.upper()} {request.url} (from {request.page}, {variant})"
    if response.get("HX-Redirect") or response.get("HX-Location"):
        return
    assert response.status_code == 200, f"{where}: status {response.status_code}, no client redirect"
    body = response.content.decode()
    for marker in PAGE_MARKERS:
        assert marker not in body, f"{where}: a whole page ({marker}) for target #{request.target}"


def plausible(name: str) -> str:
    """A value the field accepts, so the request gets past validation to what follows it."""
    if name.endswith("_bytes"):
        return "1G"
    if name in ("destinations", "email", "role_target") or "address" in name:
        return "someone@crawl.example"
    return "crawl"


@pytest.fixture
def world(dns_settings):
    domain = DomainFactory(name="crawl.example", max_mailboxes=10)
    mailbox = MailboxFactory(domain=domain, local_part="anna")
    QuotaUsage.objects.filter(mailbox=mailbox).update(bytes=1000)
    AliasFactory(domain=domain, address="team@crawl.example", destinations=["anna@crawl.example"])
    AliasDomainFactory(name="crawl-alias.example", target=domain)
    client = Client()
    client.force_login(SuperadminFactory(username="root"))
    return client


def test_every_htmx_request_gets_a_fragment_or_a_client_redirect(world):
    pages, requests = crawl(world)
    # The crawl reached the panel's pages and found its htmx requests (list filters, inline
    # switches, form posts, the address checks, the DNS check).
    paths = " ".join(pages)
    for expected in ("/domains/", "/mailboxes/", "/aliases/", "/alias-domains/", "/quota/", "/audit/",
                     "/accounts/admins/", "/dns/", "/new/"):
        assert expected in paths, f"the crawl never reached {expected}"
    assert len({(r.method, urlsplit(r.url).path) for r in requests}) >= 20
    for request in requests:
        assert_fragment(send(world, request, request.data), request, "as the page has it")
        if request.method == "post" and (request.checkboxes or request.empty_text):
            ticked = dict(request.data) | {name: "on" for name in request.checkboxes}
            ticked |= {name: plausible(name) for name in request.empty_text}
            assert_fragment(send(world, request, ticked), request, "every box ticked, text filled in")


def test_generated_password_replaces_the_form_not_the_page(world):
    domain_pk = DomainFactory(name="gen.example").pk
    response = world.post(f"/domains/{domain_pk}/mailboxes/new/", {"local_part": "bob", "generate_password": "on",
                                                                  "active": "on"},
                          headers={"HX-Request": "true", "HX-Target": "mailbox-form"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="generated-password"' in body
    assert "<html" not in body and 'class="topbar"' not in body
