"""The contract, proven against the real Postfix and Dovecot reading the panel's tables."""
import smtplib
import time

import pytest

from domains import services
from domains.models import Domain, Mailbox, QuotaUsage
from tests.mailstack.usage import deliver_one_by_one

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

PASSWORD = "mailbox-password-1"


@pytest.fixture
def world():
    """example.org with mailboxes, aliases, a catch-all, an alias domain; a backup-MX domain."""
    domain = services.domain_create(name="example.org", acting_user=None)
    john = services.mailbox_create(domain=domain, local_part="john", password=PASSWORD, acting_user=None)
    jane = services.mailbox_create(domain=domain, local_part="jane", password=PASSWORD, acting_user=None)
    services.alias_create(domain=domain, local_part="team", destinations=["john@example.org", "jane@example.org"],
                          acting_user=None)
    services.alias_create(domain=domain, local_part="info", destinations=["jane@example.org"], acting_user=None)
    services.alias_create(domain=domain, local_part="", destinations=["jane@example.org"], acting_user=None)
    services.alias_domain_create(name="example.net", target=domain, acting_user=None)
    services.domain_create(name="relay.example", backup_mx=True, transport="relay:[mx1.relay.example]",
                           acting_user=None)
    return {"domain": domain, "john": john, "jane": jane}


def test_every_postfix_map_answers_through_proxy(mail_stack, world):
    q = mail_stack.postmap
    assert q("virtual_mailbox_domains", "example.org") == "example.org"
    assert q("virtual_mailbox_domains", "relay.example") is None
    assert q("virtual_alias_domains", "example.net") == "example.net"
    assert q("relay_domains", "relay.example") == "relay.example"
    assert q("relay_domains", "example.org") is None
    assert q("virtual_mailbox_maps", "john@example.org") == "example.org/john/"
    assert q("virtual_mailbox_maps", "nobody@example.org") is None
    assert q("virtual_alias_maps", "team@example.org") == "john@example.org,jane@example.org"
    assert q("virtual_alias_maps", "@example.org") == "jane@example.org"
    assert q("virtual_mailbox_self_maps", "john@example.org") == "john@example.org"
    assert q("alias_domain_alias_maps", "info@example.net") == "jane@example.org"
    assert q("alias_domain_mailbox_maps", "john@example.net") == "john@example.org"
    assert q("alias_domain_mailbox_maps", "nobody@example.net") is None
    assert q("alias_domain_catchall_maps", "@example.net") == "jane@example.org"
    assert q("alias_domain_catchall_maps", "john@example.net") is None
    assert q("transport_maps", "relay.example") == "relay:[mx1.relay.example]"
    assert q("transport_maps", "example.org") is None
    assert set(q("sender_login_maps", "team@example.org").split(",")) == {"john@example.org", "jane@example.org"}
    assert q("sender_login_maps", "john@example.org") == "john@example.org"
    assert q("sender_login_maps", "stranger@example.org") is None


def test_catchall_never_swallows_existing_addresses(mail_stack, world):
    mail_stack.send(["john@example.org", "unknown@example.org"], subject="to john and unknown")
    mail_stack.wait_for_mail("john@example.org", 1)
    mail_stack.wait_for_mail("jane@example.org", 1)  # unknown@ went to the catch-all (jane)
    time.sleep(0.5)
    assert len(mail_stack.messages("john@example.org")) == 1
    assert len(mail_stack.messages("jane@example.org")) == 1


def test_alias_with_several_destinations_delivers_to_all(mail_stack, world):
    mail_stack.send("team@example.org", subject="team")
    mail_stack.wait_for_mail("john@example.org", 1)
    mail_stack.wait_for_mail("jane@example.org", 1)


def test_alias_domain_maps_mailboxes_aliases_and_catchall(mail_stack, world):
    mail_stack.send("john@example.net", subject="via alias domain")
    (message,) = mail_stack.wait_for_mail("john@example.org", 1)
    assert b"via alias domain" in message.read_bytes()
    mail_stack.send("info@example.net", subject="alias via alias domain")
    mail_stack.wait_for_mail("jane@example.org", 1)
    mail_stack.send("whoever@example.net", subject="catch-all via alias domain")
    mail_stack.wait_for_mail("jane@example.org", 2)


def test_forwarding_with_and_without_copy(mail_stack, world):
    services.mailbox_set_forwarding(mailbox=world["john"], destinations=["jane@example.org"], keep_copy=True,
                                    acting_user=None)
    mail_stack.send("john@example.org", subject="keep a copy")
    mail_stack.wait_for_mail("john@example.org", 1)
    mail_stack.wait_for_mail("jane@example.org", 1)
    services.mailbox_set_forwarding(mailbox=world["john"], destinations=["jane@example.org"], keep_copy=False,
                                    acting_user=None)
    mail_stack.send("john@example.org", subject="no copy")
    mail_stack.wait_for_mail("jane@example.org", 2)
    time.sleep(0.5)
    assert len(mail_stack.messages("john@example.org")) == 1


def test_inactive_things_resolve_to_nothing(mail_stack, world):
    q = mail_stack.postmap
    services.mailbox_set_active(mailbox=world["john"], active=False, acting_user=None)
    assert q("virtual_mailbox_maps", "john@example.org") is None
    assert q("virtual_mailbox_self_maps", "john@example.org") is None
    assert not mail_stack.auth_test("john@example.org", PASSWORD)
    team = world["domain"].aliases.get(address="team@example.org")
    services.alias_set_active(alias=team, active=False, acting_user=None)
    assert q("virtual_alias_maps", "team@example.org") is None
    alias_domain = world["domain"].alias_domains.get()
    services.alias_domain_set_active(alias_domain=alias_domain, active=False, acting_user=None)
    assert q("virtual_alias_domains", "example.net") is None
    assert q("alias_domain_mailbox_maps", "jane@example.net") is None
    services.domain_set_active(domain=world["domain"], active=False, acting_user=None)
    assert q("virtual_mailbox_domains", "example.org") is None
    assert q("virtual_mailbox_maps", "jane@example.org") is None
    assert q("virtual_alias_maps", "info@example.org") is None
    assert q("virtual_alias_maps", "@example.org") is None
    assert not mail_stack.auth_test("jane@example.org", PASSWORD)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        mail_stack.send("jane@example.org")


def test_backup_mx_domain_is_relayed_not_delivered(mail_stack, world):
    # Accepted at RCPT (relay_domains), then queued for the relay transport (held in tests).
    mail_stack.send("someone@relay.example", subject="for the primary MX")
    log = mail_stack.wait_for_log("to=<someone@relay.example>")
    assert "relay=none" in log and "status=deferred (deferred transport)" in log
    assert not Mailbox.objects.filter(domain__name="relay.example").exists()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        mail_stack.send("someone@not-ours.example")


def test_dovecot_auth_and_imap(mail_stack, world):
    assert mail_stack.auth_test("john@example.org", PASSWORD)
    assert mail_stack.auth_test("John@Example.ORG", PASSWORD)  # logins are lower-cased
    assert not mail_stack.auth_test("john@example.org", "wrong password")
    assert not mail_stack.auth_test("nobody@example.org", PASSWORD)
    assert mail_stack.imap_login("john@example.org", PASSWORD)
    assert not mail_stack.imap_login("john@example.org", "wrong password")
    services.mailbox_set_password(mailbox=world["john"], password="a-new-password", acting_user=None)
    assert mail_stack.auth_test("john@example.org", "a-new-password")
    assert not mail_stack.auth_test("john@example.org", PASSWORD)
    user = mail_stack.doveadm("user", "john@example.org")
    # The limit as each Dovecot reads it (2.3: quota_rule; 2.4: quota_storage_size); 0 = none.
    limit = "quota_storage_size\t0B" if mail_stack.leg.dovecot_version == "2.4" else "quota_rule\t*:bytes=0"
    assert user.returncode == 0 and limit in user.stdout, user.stdout
    assert f"home\t{mail_stack.mail_root}/example.org/john/" in user.stdout


def test_deliveries_update_the_quota_usage_row(mail_stack, world):
    usage = QuotaUsage.objects.get(mailbox=world["john"])
    assert (usage.bytes, usage.messages, usage.updated_at) == (0, 0, None)
    usage = deliver_one_by_one(mail_stack, world["john"], "john@example.org", ["one", "two"], size=2000)
    assert usage.messages == 2 and usage.bytes > 4000 and usage.updated_at is not None
    # Still one row per mailbox: Dovecot updated the row the panel created.
    assert QuotaUsage.objects.filter(mailbox=world["john"]).count() == 1


def test_quota_lowered_in_the_panel_refuses_the_next_delivery(mail_stack, world):
    domain = services.domain_create(name="small.example", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="tiny", password=PASSWORD, quota_bytes=10 * 1024**2,
                                      acting_user=None)
    mail_stack.send("tiny@small.example", subject="fits", size=20_000)
    mail_stack.wait_for_mail("tiny@small.example", 1)
    deadline = time.monotonic() + 10
    while QuotaUsage.objects.get(mailbox=mailbox).bytes == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    services.mailbox_update(mailbox=mailbox, quota_bytes=1024, acting_user=None)
    mail_stack.send("tiny@small.example", subject="does not fit", size=20_000)
    log = mail_stack.wait_for_log("to=<tiny@small.example>, relay=", timeout=20)
    deadline = time.monotonic() + 20
    while "Quota exceeded" not in log and time.monotonic() < deadline:
        time.sleep(0.2)
        log = mail_stack.log()
    assert "5.2.2" in log and "Quota exceeded" in log
    assert len(mail_stack.messages("tiny@small.example")) == 1

