"""Arbitrary text in every form field and query parameter: never a 500, never a traceback.

The forms are discovered from the pages themselves (every <form> with its fields), so a new
form is fuzzed without touching this file once its page is listed in PAGES."""
from html.parser import HTMLParser

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings, strategies as st

from domains import services
from tests.factories import SuperadminFactory

pytestmark = pytest.mark.django_db

TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "\x00", "a\x00b", "0", "-1", "99999999999999999999", "1e309", "NaN", "../../etc",
                     "<script>alert(1)</script>", "' OR 1=1 --", "%s%s%n", "é@ü.example", "@", "@@", "a@b",
                     "x" * 400, "\u202e", "\ud7ff", "1G", "-5M", "true", "on", "[]", "{}"]),
)


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                               "fields": set()})
        elif tag in ("input", "select", "textarea") and self.forms and attrs.get("name"):
            if attrs["name"] != "csrfmiddlewaretoken":
                self.forms[-1]["fields"].add(attrs["name"])


def world():
    domain = services.domain_create(name="fuzz.example", max_mailboxes=50, acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="box", password="pw", acting_user=None)
    alias = services.alias_create(domain=domain, local_part="al", destinations=["box@fuzz.example"], acting_user=None)
    alias_domain = services.alias_domain_create(name="fuzz-alias.example", target=domain, acting_user=None)
    return {"domain": domain, "mailbox": mailbox, "alias": alias, "alias_domain": alias_domain}


PAGES = [
    "/", "/aliases/", "/aliases/new/", "/aliases/{alias}/edit/", "/alias-domains/", "/alias-domains/new/",
    "/mailboxes/{mailbox}/forwarding/", "/audit/", "/accounts/admins/", "/accounts/admins/new/", "/quota/",
    "/2fa/", "/2fa/setup/", "/dns/{domain}/", "/accounts/login/",
]


@pytest.fixture
def admin_client():
    client = Client(raise_request_exception=False)
    client.admin = SuperadminFactory()
    client.force_login(client.admin)
    return client


@pytest.fixture
def forms(admin_client):
    """Every form of every listed page, discovered once (Hypothesis then draws from a fixed list)."""
    found = discover(admin_client, world())
    # Logging out is not a form to fuzz: it would only end the session the other examples need.
    return sorted({f for f in found if "logout" not in f[1]}, key=lambda f: (f[0], f[1]))


def discover(client, objects) -> list[tuple[str, str, str, set]]:
    found = []
    for page in PAGES:
        url = page.format(domain=objects["domain"].pk, mailbox=objects["mailbox"].pk, alias=objects["alias"].pk)
        response = client.get(url)
        if response.status_code != 200:
            continue
        parser = FormParser()
        parser.feed(response.content.decode())
        for form in parser.forms:
            found.append((url, form["action"] or url, form["method"], tuple(sorted(form["fields"]))))
    return found


def check(response):
    body = response.content.decode(errors="replace") if not response.streaming else ""
    assert response.status_code < 500, response.status_code
    assert "Traceback" not in body


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_every_form_survives_arbitrary_text(admin_client, forms, data):
    assert len(forms) >= 15
    admin_client.force_login(admin_client.admin)
    page, action, method, fields = data.draw(st.sampled_from(forms))
    payload = {name: data.draw(TEXT, label=name) for name in fields}
    if method == "post":
        response = admin_client.post(action, payload)
    else:
        response = admin_client.get(action, payload)
    check(response)
    # And the htmx flavour of the same request.
    check(admin_client.generic(method.upper(), action, data="&".join(f"{k}=" for k in payload),
                               HTTP_HX_REQUEST="true", content_type="application/x-www-form-urlencoded"))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(params=st.dictionaries(st.sampled_from(["q", "page", "sort", "domain", "filter", "active", "action",
                                                 "actor", "since", "until", "next", "local_part", "catchall"]),
                              TEXT, max_size=4),
       page=st.sampled_from(["/", "/aliases/", "/alias-domains/", "/audit/", "/accounts/admins/", "/quota/",
                             "/quota/export.csv", "/aliases/check/", "/2fa/verify/"]))
def test_query_strings_survive_arbitrary_text(admin_client, params, page):
    check(admin_client.get(page, params))
