import pytest

from domains import services

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def test_smtp_delivery_to_a_mailbox(mail_stack):
    domain = services.domain_create(name="example.org", acting_user=None)
    services.mailbox_create(domain=domain, local_part="john", password="john-password-1", acting_user=None)
    mail_stack.send("john@example.org", subject="first")
    (message,) = mail_stack.wait_for_mail("john@example.org", count=1)
    assert b"Subject: first" in message.read_bytes()
