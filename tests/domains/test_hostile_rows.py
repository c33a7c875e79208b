"""The Python-built table rows (domains/templatetags/table_rows.py) and the DNS badge:
hostile values entered through the real forms (alias destinations the forms refuse: written
around them) come out escaped as Django's autoescape would, in the full pages and in the htmx
row swaps, in English and French; a domain admin never gets a domain's select box or switch;
the per-language labels never leak between languages."""
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from dnscheck.models import DnsCheckRun
from domains.models import Alias, Mailbox
from tests.factories import AdminFactory, DomainFactory, SuperadminFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script> "dq" \'sq\' & `bt` " onmouseover="alert(2) x&amp;y é ' + "w" * 150


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside each element id'd by a row."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags, self.texts = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def assert_not_injected(html):
    parsed = Tags(html)
    assert "<script>alert(1)" not in html
    assert all("onmouseover" not in attrs for _tag, attrs in parsed.tags)
    assert not [a for t, a in parsed.tags if t == "script" and "src" not in a and "alert" in "".join(parsed.texts)]
    return parsed


@pytest.fixture
def hostile(client, superadmin):
    """A domain (IDN) with a hostile description and a mailbox with a hostile display name,
    both entered through the panel's forms, and a DNS run."""
    domain = DomainFactory(name="xn--exmple-cua.org")  # exämple.org
    client.force_login(superadmin)
    resp = client.post(reverse("domains:domain-update", args=[domain.pk]),
                       {"description": HOSTILE, "default_quota_bytes": "0", "max_mailboxes": "0", "max_aliases": "0",
                        "quota_bytes": "0", "max_quota_bytes": "0", "active": "on"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    resp = client.post(reverse("domains:mailbox-create", args=[domain.pk]),
                       {"local_part": "o-brien_x.y", "name": HOSTILE, "quota_bytes": "100M",
                        "generate_password": "on", "active": "on"})
    assert resp.status_code in (200, 302)  # 200: the generated password, shown once
    domain.refresh_from_db()
    assert domain.description == HOSTILE
    mailbox = Mailbox.objects.get(domain=domain)
    assert mailbox.name == HOSTILE
    DnsCheckRun.objects.create(domain=domain, status="warning")
    client.logout()
    return domain, mailbox


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("role", ["superadmin", "domain_admin"])
def test_hostile_values_are_escaped_on_the_list_pages(client, hostile, language, role):
    domain, mailbox = hostile
    user = SuperadminFactory() if role == "superadmin" else AdminFactory(domains=[domain])
    client.force_login(user)
    select = {"en": "Select ", "fr": "Sélectionner "}[language]
    for url in ("/mailboxes/", reverse("domains:domain-mailbox-list", args=[domain.pk])):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        parsed = assert_not_injected(html)
        assert HOSTILE in parsed.texts  # the name cell, exactly the stored value once decoded
        [box] = parsed.find("input", name="pk", value=str(mailbox.pk))
        assert box["aria-label"].startswith(select) and box["aria-label"].endswith("o-brien_x.y@exämple.org")
        [toggle] = parsed.find("button", formaction=reverse("domains:mailbox-set-active", args=[mailbox.pk]))
        assert toggle["hx-vals"] == '{"active": "0", "confirmed": "1"}'
        assert "o-brien_x.y@exämple.org" in toggle["hx-confirm"]
        assert toggle["aria-describedby"] == f"mailbox-{mailbox.pk}-label"
    html = client.get("/domains/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    parsed = assert_not_injected(html)
    assert HOSTILE in parsed.texts
    assert "exämple.org" in parsed.texts
    boxes = parsed.find("input", name="pk", value=str(domain.pk))
    switches = parsed.find("button", formaction=reverse("domains:domain-set-active", args=[domain.pk]))
    if role == "superadmin":
        assert len(boxes) == 1 and len(switches) == 1
        assert "exämple.org" in switches[0]["hx-confirm"]
    else:
        assert boxes == [] and switches == []  # only a superadmin selects or switches domains
    [badge] = parsed.find("a", href=reverse("dnscheck:domain", args=[domain.pk]))
    assert badge["class"] == "dns-badge dns-badge--warning"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_htmx_row_swaps_escape_too(client, hostile, superadmin, language):
    domain, mailbox = hostile
    client.force_login(superadmin)
    for active in ("0", "1"):
        resp = client.post(reverse("domains:mailbox-set-active", args=[mailbox.pk]),
                           {"active": active, "confirmed": "1"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=language)
        assert resp.status_code == 200
        html = resp.content.decode()
        parsed = assert_not_injected(html)
        assert html.lstrip().startswith(f'<tr id="mailbox-{mailbox.pk}"')
        assert HOSTILE in parsed.texts
        resp = client.post(reverse("domains:domain-set-active", args=[domain.pk]),
                           {"active": active, "confirmed": "1"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=language)
        assert resp.status_code == 200, resp
        html = resp.content.decode()
        parsed = assert_not_injected(html)
        assert html.lstrip().startswith(f'<tr id="domain-{domain.pk}"')
        assert HOSTILE in parsed.texts
        assert len(parsed.find("input", name="pk", value=str(domain.pk))) == 1


def test_hostile_dns_status_stays_inside_its_attribute(client, superadmin):
    domain = DomainFactory(name="dns.example")
    DnsCheckRun.objects.create(domain=domain, status='"><b>x')  # not a choice: written around the model
    client.force_login(superadmin)
    parsed = assert_not_injected(client.get("/domains/").content.decode())
    [badge] = parsed.find("a", href=reverse("dnscheck:domain", args=[domain.pk]))
    assert badge["class"] == 'dns-badge dns-badge--"><b>x'
    assert not parsed.find("b")


def test_row_labels_follow_each_request_s_language(client, superadmin):
    """One process, interleaved languages (Accept-Language, then the language cookie): every
    table speaks the language of its own request."""
    from django.conf import settings

    domain = DomainFactory(name="lang.example")
    mailbox_url = reverse("domains:domain-mailbox-list", args=[domain.pk])
    from tests.factories import MailboxFactory

    MailboxFactory(domain=domain, local_part="a", quota_bytes=0)
    client.force_login(superadmin)
    for _ in range(2):
        for language, word in (("fr", "illimité"), ("en", "unlimited"), ("fr", "illimité")):
            body = client.get(mailbox_url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            assert f">{word}<" in body, language
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
        assert ">illimité<" in client.get(mailbox_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        assert ">unlimited<" in client.get(mailbox_url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        del client.cookies[settings.LANGUAGE_COOKIE_NAME]


@pytest.fixture
def hostile_alias(client, superadmin):
    """An alias of an IDN domain with five destinations: an odd but valid one entered through
    the panel's form, then hostile ones written around it (as an import of old Postfix maps
    could), so the list shows three and "and 2 more"."""
    domain = DomainFactory(name="xn--exmple-cua.org")  # exämple.org
    client.force_login(superadmin)
    odd = "o'brien&co{x}|y@elsewhere.example"
    resp = client.post(reverse("domains:alias-create"),
                       {"domain": domain.pk, "local_part": "sales", "destinations": odd, "active": "on"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    alias = Alias.objects.get(domain=domain)
    Alias.objects.filter(pk=alias.pk).update(
        destinations=[f"{HOSTILE}@elsewhere.example", odd, "x@y.example", '"><b>y@z.example', "more@z.example"])
    client.logout()
    alias.refresh_from_db()
    return alias


def assert_alias_row_escaped(html, alias, language):
    parsed = assert_not_injected(html)
    assert not parsed.find("b")
    assert f"{HOSTILE}@elsewhere.example" in parsed.texts  # the destination, exactly as stored once decoded
    assert "o'brien&co{x}|y@elsewhere.example" in parsed.texts
    assert {"en": "and 2 more", "fr": "et 2 autres"}[language] in parsed.texts
    [box] = parsed.find("input", name="pk", value=str(alias.pk))
    assert box["aria-label"] == {"en": "Select ", "fr": "Sélectionner "}[language] + "sales@exämple.org"
    [toggle] = parsed.find("button", formaction=reverse("domains:alias-set-active", args=[alias.pk]))
    assert toggle["aria-describedby"] == f"alias-{alias.pk}-label"
    return toggle


@pytest.mark.parametrize("language", ["en", "fr"])
def test_hostile_alias_destinations_are_escaped(client, hostile_alias, superadmin, language):
    alias = hostile_alias
    client.force_login(superadmin)
    for url in ("/aliases/", reverse("domains:domain-alias-list", args=[alias.domain_id])):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        toggle = assert_alias_row_escaped(html, alias, language)
        assert "sales@exämple.org" in toggle["hx-confirm"] and "5" in toggle["hx-confirm"]
    for active in ("0", "1"):  # the htmx swap after a toggle renders the same row
        resp = client.post(reverse("domains:alias-set-active", args=[alias.pk]),
                           {"active": active, "confirmed": "1"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=language)
        assert resp.status_code == 200
        html = resp.content.decode()
        assert html.lstrip().startswith(f'<tr id="alias-{alias.pk}"')
        toggle = assert_alias_row_escaped(html, alias, language)
        assert toggle["aria-checked"] == ("true" if active == "1" else "false")
