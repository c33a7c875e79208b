"""Vacation replies end to end: the panel's script, read by the real Dovecot's Sieve through the
dict, answered through the real Postfix into a mailbox, checked over IMAP; and last login
written by Dovecot's last_login plugin at that IMAP login."""
import datetime
import email
import email.policy
import imaplib
import smtplib
import time
import uuid
from email.message import EmailMessage

import pytest

from domains import services
from domains.models import LastLogin
from tests.mailstack.harness import CLIENT_ADDRESS
from vacation import services as vacation_services

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

PASSWORD = "mailbox-password-1"
# Everything a user could type to break out of a Sieve string: quotes, backslashes, a
# statement after a quote, a comment, line breaks, a line holding a single dot (the end of a
# `text:` block), a `text:` opener and variables syntax.
HOSTILE_SUBJECT = 'Away "now"; discard; # \\ ${x}'
HOSTILE_BODY = 'I am away.\n"; discard; #\n.\n..\ntext:\nback \\ soon \\"\n${hex:41}\nbye'


@pytest.fixture
def world():
    domain = services.domain_create(name="example.org", acting_user=None)
    mailboxes = {name: services.mailbox_create(domain=domain, local_part=name, password=PASSWORD, acting_user=None)
                 for name in ("john", "alice", "bob", "carol", "dave")}
    return mailboxes


def send(stack, to, *, envelope_from, header_from=None, subject="hello", headers=()):
    message = EmailMessage()
    message["From"] = header_from or envelope_from or "mailer-daemon@example.org"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@test.example>"
    for name, value in headers:
        message[name] = value
    message.set_content("are you there?")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30, source_address=(CLIENT_ADDRESS, 0)) as smtp:
        smtp.send_message(message, from_addr=envelope_from, to_addrs=[to])


def imap_messages(stack, address) -> list[email.message.EmailMessage]:
    with imaplib.IMAP4("127.0.0.1", stack.imap_port, timeout=15) as imap:
        imap.login(address, PASSWORD)
        imap.select("INBOX")
        _status, data = imap.search(None, "ALL")
        found = []
        for number in data[0].split():
            _status, parts = imap.fetch(number, "(RFC822)")
            found.append(email.message_from_bytes(parts[0][1], policy=email.policy.default))
        imap.logout()
    return found


def set_vacation(mailbox, **fields):
    options = {"active": True, "subject": HOSTILE_SUBJECT, "body": HOSTILE_BODY, "days": 1, **fields}
    return vacation_services.vacation_set(mailbox=mailbox, acting_user=None, **options)


def test_one_reply_per_sender_through_postfix_checked_over_imap(mail_stack, world):
    set_vacation(world["john"])
    send(mail_stack, "john@example.org", envelope_from="alice@example.org", subject="first")
    mail_stack.wait_for_mail("john@example.org", 1)
    (reply_file,) = mail_stack.wait_for_mail("alice@example.org", 1)
    raw_reply = reply_file.read_bytes()   # before IMAP moves it from new/ to cur/
    # A second message within the interval: delivered, not answered.
    send(mail_stack, "john@example.org", envelope_from="alice@example.org", subject="second")
    mail_stack.wait_for_mail("john@example.org", 2)
    time.sleep(2)
    (reply,) = imap_messages(mail_stack, "alice@example.org")
    assert len(mail_stack.messages("alice@example.org")) == 1
    assert reply["Subject"] == HOSTILE_SUBJECT
    assert reply["From"].addresses[0].addr_spec == "john@example.org"
    assert reply["Auto-Submitted"].startswith("auto-replied")
    assert reply.get_content().replace("\r\n", "\n").rstrip("\n") == HOSTILE_BODY
    # RFC 5230 section 5.1 / RFC 3834: the reply goes out with an empty return path.
    assert b"Return-Path: <>" in raw_reply
    # Both messages were kept (the hostile text added no discard).
    assert len(mail_stack.messages("john@example.org")) == 2
    # The IMAP login above went through Dovecot's last_login plugin into our table.
    deadline = time.monotonic() + 10
    while not LastLogin.objects.filter(mailbox_id="alice@example.org").exists():
        assert time.monotonic() < deadline, f"no last_login row; dovecot log:\n{mail_stack.log('dovecot')[-2000:]}"
        time.sleep(0.1)
    seconds = LastLogin.objects.get(mailbox_id="alice@example.org").last_login
    assert abs(seconds - time.time()) < 60
    # The trigger copied it to the mailbox row the panel's lists sort on.
    assert world["alice"].__class__.objects.get(address="alice@example.org").last_login_at.timestamp() == seconds
    assert not LastLogin.objects.filter(mailbox_id="john@example.org").exists()   # deliveries are no logins


def test_no_reply_to_lists_bulk_bounces_or_outside_the_dates(mail_stack, world):
    today = datetime.date.today()
    set_vacation(world["john"])
    set_vacation(world["bob"], first_day=today + datetime.timedelta(days=2))      # not yet
    set_vacation(world["carol"], last_day=today - datetime.timedelta(days=2))     # over
    send(mail_stack, "john@example.org", envelope_from="alice@example.org",
         headers=[("List-Id", "Team list <team.lists.example.org>")])
    send(mail_stack, "john@example.org", envelope_from="alice@example.org", headers=[("Precedence", "list")])
    send(mail_stack, "john@example.org", envelope_from="alice@example.org", headers=[("Precedence", "bulk")])
    send(mail_stack, "john@example.org", envelope_from="", header_from="alice@example.org")   # a bounce
    send(mail_stack, "bob@example.org", envelope_from="alice@example.org")
    send(mail_stack, "carol@example.org", envelope_from="alice@example.org")
    mail_stack.wait_for_mail("john@example.org", 4)
    mail_stack.wait_for_mail("bob@example.org", 1)
    mail_stack.wait_for_mail("carol@example.org", 1)
    # A control message that must be answered, sent last: once its reply is in, the others had their turn.
    send(mail_stack, "john@example.org", envelope_from="dave@example.org")
    mail_stack.wait_for_mail("dave@example.org", 1)
    time.sleep(2)
    assert mail_stack.messages("alice@example.org") == []


def test_switched_off_means_no_reply(mail_stack, world):
    set_vacation(world["john"])
    vacation_services.vacation_switch_off(mailbox=world["john"], acting_user=None)
    send(mail_stack, "john@example.org", envelope_from="alice@example.org")
    set_vacation(world["bob"])
    send(mail_stack, "bob@example.org", envelope_from="dave@example.org")   # the control
    mail_stack.wait_for_mail("dave@example.org", 1)
    mail_stack.wait_for_mail("john@example.org", 1)
    time.sleep(2)
    assert mail_stack.messages("alice@example.org") == []


def test_two_mailboxes_on_vacation_do_not_loop(mail_stack, world):
    # Each reply is Auto-Submitted: auto-replied with an empty return path: never answered.
    set_vacation(world["john"])
    set_vacation(world["alice"])
    send(mail_stack, "john@example.org", envelope_from="alice@example.org")
    mail_stack.wait_for_mail("alice@example.org", 1)      # john's reply
    send(mail_stack, "carol@example.org", envelope_from="dave@example.org")   # an unrelated control
    mail_stack.wait_for_mail("carol@example.org", 1)
    time.sleep(3)
    assert len(mail_stack.messages("john@example.org")) == 1
    assert len(mail_stack.messages("alice@example.org")) == 1


def test_renamed_mailbox_replies_from_its_new_address_and_never_to_itself(mail_stack, world):
    set_vacation(world["john"])
    services.mailbox_rename(mailbox=world["john"], local_part="jon", acting_user=None)
    # The user's own address, forged as the sender, and a system sender: never answered.
    send(mail_stack, "jon@example.org", envelope_from="jon@example.org", subject="me")
    send(mail_stack, "jon@example.org", envelope_from="MAILER-DAEMON@example.net", subject="daemon")
    send(mail_stack, "jon@example.org", envelope_from="alice@example.org", subject="first")
    mail_stack.wait_for_mail("jon@example.org", 3)
    (reply_file,) = mail_stack.wait_for_mail("alice@example.org", 1)
    time.sleep(2)
    reply = email.message_from_bytes(reply_file.read_bytes(), policy=email.policy.default)
    assert reply["From"].addresses[0].addr_spec == "jon@example.org"
    assert len(mail_stack.messages("jon@example.org")) == 3   # no reply to itself landed here
