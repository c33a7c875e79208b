"""Issue 13 against the real Postfix: inactive addresses, send-as, loops."""
import smtplib
import time

import pytest

from domains import routing_db, services
from domains.models import Alias

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

PW = "mailbox-password-1"


@pytest.fixture
def world():
    org = services.domain_create(name="example.org", acting_user=None)
    boxes = {name: services.mailbox_create(domain=org, local_part=name, password=PW, acting_user=None)
             for name in ("john", "jane", "boss")}
    services.alias_create(domain=org, local_part="", destinations=["boss@example.org"], acting_user=None)
    services.alias_create(domain=org, local_part="team", destinations=["john@example.org"], acting_user=None)
    services.alias_create(domain=org, local_part="info", destinations=["jane@example.org"], acting_user=None)
    services.alias_domain_create(name="example.net", target=org, acting_user=None)
    return {"org": org, **boxes}


def refused(mail_stack, address: str) -> tuple[int, bytes]:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
        mail_stack.send(address)
    return exc.value.recipients[address]


def test_inactive_mailbox_and_alias_are_refused_at_rcpt_not_given_to_the_catchall(mail_stack, world):
    services.mailbox_set_forwarding(mailbox=world["john"], destinations=["jane@example.org"], keep_copy=True,
                                    acting_user=None)
    services.mailbox_set_active(mailbox=world["john"], active=False, acting_user=None)
    info = Alias.objects.get(address="info@example.org")
    services.alias_set_active(alias=info, active=False, acting_user=None)
    for address in ("john@example.org", "john@example.net", "info@example.org", "info@example.net"):
        code, reply = refused(mail_stack, address)
        assert code == 550 and b"5.2.1" in reply, (address, reply)
        assert routing_db.resolve(address).rcpt == "disabled"
    assert mail_stack.postmap("recipient_access", "john@example.org").startswith("550 5.2.1")
    assert mail_stack.postmap("recipient_access", "jane@example.org") is None
    # Through an alias, the inactive mailbox neither forwards nor falls through to the catch-all.
    mail_stack.send(["team@example.org", "jane@example.org"], subject="team")
    mail_stack.wait_for_mail("jane@example.org", 1)
    mail_stack.wait_for_log("to=<john@example.org>, orig_to=<team@example.org>")
    time.sleep(1)
    assert len(mail_stack.messages("jane@example.org")) == 1
    assert mail_stack.messages("boss@example.org") == []
    resolution = routing_db.resolve("team@example.org")
    assert [(o.address, o.result) for o in resolution.outcomes] == [("john@example.org", "inactive")]
    # Unknown addresses still reach the catch-all.
    mail_stack.send("nobody@example.org", subject="stray")
    mail_stack.wait_for_mail("boss@example.org", 1)


def test_send_as_agrees_with_delivery(mail_stack, world):
    q = mail_stack.postmap
    services.mailbox_set_forwarding(mailbox=world["jane"], destinations=["john@example.org"], keep_copy=True,
                                    acting_user=None)
    services.mailbox_set_forwarding(mailbox=world["boss"], destinations=["out@remote.example"], keep_copy=False,
                                    acting_user=None)
    expected = {
        "john@example.net": "john@example.org",         # an alias-domain address: delivered to john
        "team@example.net": "john@example.org",         # an alias through the alias domain
        "team@example.org": "john@example.org",
        "jane@example.org": "jane@example.org",         # jane's forwarding grants john nothing
        "boss@example.org": "boss@example.org",         # nor the external target
    }
    for key, owners in expected.items():
        assert q("sender_login_maps", key) == owners, key
        assert routing_db.resolve(key).senders == owners.split(","), key
    assert q("sender_login_maps", "nobody@example.org") is None
    assert routing_db.resolve("nobody@example.org").senders == []   # the catch-all grants nothing


def test_a_loop_written_behind_the_panel_defers_as_the_model_says(mail_stack, world):
    services.alias_create(domain=world["org"], local_part="x", destinations=["y@example.org"], acting_user=None)
    services.alias_create(domain=world["org"], local_part="y", destinations=["jane@example.org"], acting_user=None)
    Alias.objects.filter(address="y@example.org").update(destinations=["x@example.org"])  # what the panel refuses
    resolution = routing_db.resolve("x@example.org")
    assert resolution.error == "recursion_limit" and resolution.cycle[:2] == ["x@example.org", "y@example.org"]
    with pytest.raises(smtplib.SMTPDataError) as exc:
        mail_stack.send(["x@example.org", "jane@example.org"], subject="loop")
    assert exc.value.smtp_code == 451 and b"4.6.0" in exc.value.smtp_error
