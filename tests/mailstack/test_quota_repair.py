"""The usage repair docs/mailstack.md gives for each Dovecot version really rewrites quota_usage."""
import subprocess

import pytest

from domains import services
from domains.models import QuotaUsage
from tests.mailstack.usage import deliver_one_by_one, wait_for_usage

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def test_documented_repair_rewrites_a_drifted_row(mail_stack):
    domain = services.domain_create(name="example.org", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="john", password="john-password-1",
                                      acting_user=None)
    usage = deliver_one_by_one(mail_stack, mailbox, "john@example.org", ["one", "two"], size=2000)
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
    wait_for_usage(mailbox, true_figures[1], bytes=true_figures[0])
    assert len(mail_stack.messages(address)) == 2
