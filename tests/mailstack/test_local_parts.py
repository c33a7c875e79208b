"""Every class of local part the panel accepts is served end to end, and plus-addressing works.

For each character class: RCPT accepted by Postfix, delivered over LMTP into the Maildir, IMAP
login by Dovecot; on both legs (Debian 12 and Debian 13). The refusals are tests/domains/test_local_parts.py.
"""
import time

import pytest

from domains import services

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

PASSWORD = "mailbox-password-1"

# One name per character class of SERVED_LOCAL_PART_SQL_RE, each class where it may stand.
SERVED = {
    "letters": "john",
    "digits": "2024",
    "inner dot": "john.doe",
    "hyphen, inner and trailing": "mary-ann-",
    "underscore, leading": "_ops_team",
    "all together": "a1.b-c_d",
}


@pytest.mark.parametrize("local_part", SERVED.values(), ids=SERVED.keys())
def test_each_served_class_round_trips(mail_stack, local_part):
    domain = services.domain_create(name="example.org", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part=local_part, password=PASSWORD, acting_user=None)
    mail_stack.send(mailbox.address, subject=f"for {local_part}")      # RCPT refused -> raises
    (message,) = mail_stack.wait_for_mail(mailbox.address, 1)          # LMTP delivery
    assert f"for {local_part}".encode() in message.read_bytes()
    assert mail_stack.imap_login(mailbox.address, PASSWORD)            # Dovecot login


def test_plus_addressing_reaches_the_mailbox_not_the_catchall(mail_stack):
    domain = services.domain_create(name="example.org", acting_user=None)
    services.mailbox_create(domain=domain, local_part="bob", password=PASSWORD, acting_user=None)
    services.mailbox_create(domain=domain, local_part="jane", password=PASSWORD, acting_user=None)
    services.alias_create(domain=domain, local_part="", destinations=["jane@example.org"], acting_user=None)
    services.alias_create(domain=domain, local_part="team", destinations=["bob@example.org"], acting_user=None)
    mail_stack.send("bob+shop@example.org", subject="plus mailbox")
    (message,) = mail_stack.wait_for_mail("bob@example.org", 1)
    assert b"plus mailbox" in message.read_bytes()
    mail_stack.send("team+news@example.org", subject="plus alias")
    mail_stack.wait_for_mail("bob@example.org", 2)
    mail_stack.send("nobody+x@example.org", subject="plus unknown")    # the catch-all still catches
    mail_stack.wait_for_mail("jane@example.org", 1)
    time.sleep(0.5)
    assert len(mail_stack.messages("jane@example.org")) == 1
