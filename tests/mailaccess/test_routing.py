"""The routing explainer names send-as grants as a reason; the model matches the Postfix query."""
import json
from io import StringIO

import pytest
from django.core.management import call_command

from domains import routing, services as domain_services
from domains.routing_db import resolve
from mailaccess import services

pytestmark = pytest.mark.django_db


def test_who_may_send_as_an_address_and_why():
    org = domain_services.domain_create(name="example.org", acting_user=None)
    domain_services.alias_domain_create(name="example.net", target=org, acting_user=None)
    john = domain_services.mailbox_create(domain=org, local_part="john", password="pw-123456", acting_user=None)
    domain_services.mailbox_create(domain=org, local_part="jane", password="pw-123456", acting_user=None)
    domain_services.alias_create(domain=org, local_part="team", destinations=["jane@example.org"], acting_user=None)
    services.sender_grant_create(mailbox=john, address="team@example.org", acting_user=None)
    services.sender_grant_create(mailbox=john, address="boss@remote.example", acting_user=None)

    resolution = resolve("team@example.net")
    assert resolution.senders == ["jane@example.org", "john@example.org"]
    assert {(r["login"], r["reason"]) for r in resolution.sender_reasons} == {
        ("jane@example.org", "alias"), ("john@example.org", "grant")}
    assert resolve("boss@remote.example").senders == ["john@example.org"]

    out = StringIO()
    call_command("route", "team@example.org", stdout=out)
    assert "john@example.org: granted the right to send as team@example.org" in out.getvalue()
    out = StringIO()
    call_command("route", "team@example.org", "--json", stdout=out)
    assert {"login": "john@example.org", "reason": "grant", "via": "team@example.org"} in \
        json.loads(out.getvalue())["sender_reasons"]

    # An inactive grantee is no owner (as in the Postfix query).
    domain_services.mailbox_set_active(mailbox=john, active=False, acting_user=None)
    assert resolve("boss@remote.example").senders == []


def test_pure_model_with_grants():
    rows = routing.Rows.of(domains=[routing.DomainRow("example.org")],
                           mailboxes=[routing.MailboxRow("john@example.org")])
    rows.grants = {"x@remote.example": ("john@example.org",)}
    model = routing.Model(rows, routing.Settings())
    assert model.t_sender_login("x@remote.example") == ["john@example.org"]
    assert model.t_sender_login("@remote.example") is None
