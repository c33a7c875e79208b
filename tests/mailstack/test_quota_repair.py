"""The usage repair docs/mailstack.md gives for each Dovecot version really rewrites quota_usage."""
import subprocess
import time

import pytest

from domains import services
from domains.models import QuotaUsage

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def wait_for_usage(mailbox, expected, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        usage = QuotaUsage.objects.get(mailbox=mailbox)
        if (usage.bytes, usage.messages) == expected or (expected[0] is None and usage.messages == expected[1]):
            return usage
        time.sleep(0.2)
    raise AssertionError(f"quota_usage is {(usage.bytes, usage.messages)}, expected {expected}")


def test_documented_repair_rewrites_a_drifted_row(mail_stack):
    domain = services.domain_create(name="example.org", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="john", password="john-password-1",
                                      acting_user=None)
    mail_stack.send("john@example.org", subject="one", size=2000)
    mail_stack.send("john@example.org", subject="two", size=2000)
    mail_stack.wait_for_mail("john@example.org", 2)
    usage = wait_for_usage(mailbox, (None, 2))
    true_figures = (usage.bytes, usage.messages)
    QuotaUsage.objects.filter(mailbox=mailbox).update(bytes=1, messages=99)   # drift
    address = mailbox.address
    if mail_stack.leg.dovecot_version == "2.3":
        assert mail_stack.doveadm("quota", "recalc", "-u", address).returncode == 0
    else:
        # 2.4: recalc does not write the panel's table; a save and its expunge do.
        conf = ["doveadm", "-c", str(mail_stack.dovecot_conf)]
        saved = subprocess.run(mail_stack.leg.cmd(*conf, "save", "-u", address), input="Subject: quota refresh\n\n",
                               capture_output=True, text=True, timeout=60)
        assert saved.returncode == 0, saved.stderr
        expunged = mail_stack.doveadm("expunge", "-u", address, "mailbox", "INBOX", "header", "Subject",
                                      "quota refresh")
        assert expunged.returncode == 0, expunged.stderr
    wait_for_usage(mailbox, true_figures)
    assert len(mail_stack.messages(address)) == 2
