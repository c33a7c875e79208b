"""The routing explainer: manage.py route and the page, scoped like every view."""
import json
from io import StringIO

import pytest
from django.core.management import call_command

from domains import services
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

PW = "a-password-123"


@pytest.fixture
def world():
    org = services.domain_create(name="example.org", acting_user=None)
    other = services.domain_create(name="other.example", acting_user=None)
    services.alias_domain_create(name="example.net", target=org, acting_user=None)
    services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    services.mailbox_create(domain=other, local_part="secret", password=PW, acting_user=None)
    services.alias_create(domain=other, local_part="list", destinations=["secret@other.example"], acting_user=None)
    services.alias_create(domain=org, local_part="team", destinations=["john@example.org", "list@other.example",
                                                                      "x@remote.example"], acting_user=None)
    return {"org": org, "other": other}


def test_route_command_text_and_json(world):
    out = StringIO()
    call_command("route", "Team@Example.NET", stdout=out)
    text = out.getvalue()
    assert "team@example.net: Accepted at RCPT TO." in text
    assert "alias_domain_alias_maps" in text and "john@example.org: delivered to the mailbox john@example.org" in text
    assert "x@remote.example: sent to another server" in text
    assert "may send as it: john@example.org\n" in text   # the mailboxes it names itself
    out = StringIO()
    call_command("route", "team@example.org", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert {r["address"]: r["result"] for r in data["recipients"]} == {
        "john@example.org": "delivered", "secret@other.example": "delivered", "x@remote.example": "external"}
    assert data["steps"][1] == {"code": "lookup", "address": "team@example.org", "table": "virtual_alias_maps",
                                "key": "team@example.org",
                                "results": ["john@example.org", "list@other.example", "x@remote.example"]}


def test_route_page_for_a_superadmin(client, superadmin, world):
    client.force_login(superadmin)
    assert 'action="/route/"' in client.get("/").content.decode()
    page = client.get("/route/", {"address": "team@example.org"}).content.decode()
    assert "secret@other.example" in page and "list@other.example" in page


def test_route_page_is_scoped_for_a_domain_admin(client, world):
    admin = AdminFactory(domains=[world["org"]])
    client.force_login(admin)
    page = client.get("/route/", {"address": "list@other.example"}).content.decode()
    assert "only explain addresses of the domains you manage" in page and "secret@" not in page
    page = client.get("/route/", {"address": "team@example.net"}).content.decode()
    assert "john@example.org" in page
    assert "secret@other.example" not in page   # another domain's members stay hidden
    assert "a domain you do not manage" in page


def test_route_page_in_french(client, superadmin, world):
    client.force_login(superadmin)
    page = client.get("/route/", {"address": "nobody@example.org"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Refusé" in page


@pytest.mark.parametrize("role", ["anonymous", "mail_user", "superadmin", "domain_admin", "other_admin"])
def test_route_page_role_matrix(role):
    from django.urls import reverse

    from tests.roles import check_role, make_world

    world = make_world()
    services.alias_create(domain=world.domain, local_part="secret-list", destinations=["bob@example.org"],
                          acting_user=None)
    response = world.client(role).get(reverse("domains:route"), {"address": "secret-list@example.org"})
    if check_role(world, role, response, allowed={"superadmin", "domain_admin"}, secrets=("bob@example.org",)):
        assert "bob@example.org" in response.content.decode()
