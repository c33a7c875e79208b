"""Review of issue 13 against the real Postfix: an inactive catch-all."""
import smtplib

import pytest

from domains import routing_db, services
from domains.models import Alias

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def test_an_inactive_catchall_refuses_unknown_addresses_at_rcpt(mail_stack):
    org = services.domain_create(name="example.org", acting_user=None)
    services.mailbox_create(domain=org, local_part="boss", password="mailbox-password-1", acting_user=None)
    services.alias_create(domain=org, local_part="", destinations=["boss@example.org"], acting_user=None)
    services.alias_set_active(alias=Alias.objects.get(address="@example.org"), active=False, acting_user=None)
    # The disabled map must not answer @domain (it would make every unknown address "listed").
    assert mail_stack.postmap("disabled_recipient_maps", "@example.org") is None
    assert routing_db.resolve("nobody@example.org").rcpt == "unknown"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
        mail_stack.send("nobody@example.org")
    code, reply = exc.value.recipients["nobody@example.org"]
    assert code == 550 and b"5.1.1" in reply
