"""manage.py apppassword / sendergrant, and the API's mailbox sub-resources."""
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mailaccess import services
from mailaccess.models import AppPassword, SenderGrant
from tests.api.conftest import make_token
from tests.factories import AdminFactory, DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def john():
    return MailboxFactory(domain=DomainFactory(name="example.org"), local_part="john")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_apppassword_command(john):
    created = json.loads(run("apppassword", "create", "John@Example.org", "--name", "phone",
                             "--protocol", "imap", "--protocol", "smtp", "--json"))
    assert created["protocols"] == ["imap", "smtp"] and created["mailbox"] == "john@example.org"
    assert AppPassword.objects.get().secret_sha256 == hashlib.sha256(created["secret"].encode()).hexdigest()
    listed = json.loads(run("apppassword", "list", "john@example.org", "--json"))
    assert [(r["id"], r["name"], r["revoked"]) for r in listed] == [(created["id"], "phone", None)]
    assert "secret" not in listed[0]
    assert "imap, smtp" in run("apppassword", "list", "john@example.org")
    run("apppassword", "revoke", "john@example.org", str(created["id"]))
    assert json.loads(run("apppassword", "list", "john@example.org", "--json"))[0]["revoked"]
    with pytest.raises(CommandError, match="has no app password"):
        run("apppassword", "revoke", "john@example.org", "999")
    with pytest.raises(CommandError, match="does not exist"):
        run("apppassword", "list", "nobody@example.org")


def test_sendergrant_command(john):
    assert "may now send as boss@remote.example" in run("sendergrant", "add", "john@example.org", "Boss@Remote.example")
    with pytest.raises(CommandError, match="always sends as its own address"):
        run("sendergrant", "add", "john@example.org", "john@example.org")
    listed = json.loads(run("sendergrant", "list", "john@example.org", "--json"))
    assert [(r["mailbox"], r["address"]) for r in listed] == [("john@example.org", "boss@remote.example")]
    send_as = json.loads(run("sendergrant", "list", "john@example.org", "--send-as", "--json"))
    assert {(r["address"], r["reason"]) for r in send_as} == {("john@example.org", "mailbox"),
                                                                ("boss@remote.example", "grant")}
    run("sendergrant", "remove", "john@example.org", "boss@remote.example")
    assert not SenderGrant.objects.exists()
    with pytest.raises(CommandError, match="no send-as grant"):
        run("sendergrant", "remove", "john@example.org", "boss@remote.example")


def test_api_app_passwords(client, john):
    admin = AdminFactory(username="alice", domains=[john.domain])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin)}"}
    base = f"/api/v1/mailboxes/{john.pk}/app-passwords"
    response = client.post(base, {"name": "phone", "protocols": ["pop3"]}, content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["protocols"] == ["pop3"] and len(created["secret"]) == 19
    listed = client.get(base, **headers).json()
    assert [p["name"] for p in listed] == ["phone"] and "secret" not in listed[0]
    bad = client.post(base, {"name": "x", "protocols": ["ftp"]}, content_type="application/json", **headers)
    assert bad.status_code in (400, 422)
    assert client.delete(f"{base}/{created['id']}", **headers).status_code == 204
    assert not AppPassword.objects.get().active


def test_api_sender_grants_are_scoped(client, john):
    admin = AdminFactory(username="alice", domains=[john.domain])
    other = AdminFactory(username="mallory", domains=[DomainFactory(name="other.example")])
    base = f"/api/v1/mailboxes/{john.pk}/sender-grants"
    mine = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin)}"}
    response = client.post(base, {"address": "someone@gmail.com"}, content_type="application/json", **mine)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "sender_outside_scope"
    response = client.post(base, {"address": "sales@example.org"}, content_type="application/json", **mine)
    assert response.status_code == 201 and response.json()["address"] == "sales@example.org"
    theirs = {"HTTP_AUTHORIZATION": f"Bearer {make_token(other)}"}
    assert client.get(base, **theirs).status_code == 404
    assert client.post(base, {"address": "x@other.example"}, content_type="application/json",
                       **theirs).status_code == 404
    root = {"HTTP_AUTHORIZATION": f"Bearer {make_token(SuperadminFactory(username='root'))}"}
    assert client.post(base, {"address": "someone@gmail.com"}, content_type="application/json",
                       **root).status_code == 201
    send_as = client.get(f"/api/v1/mailboxes/{john.pk}/send-as", **mine).json()
    assert {(s["address"], s["reason"]) for s in send_as} >= {("someone@gmail.com", "grant"),
                                                               ("sales@example.org", "grant")}
    grant = SenderGrant.objects.get(address="sales@example.org")
    assert client.delete(f"{base}/{grant.pk}", **theirs).status_code == 404
    assert client.delete(f"{base}/{grant.pk}", **mine).status_code == 204
