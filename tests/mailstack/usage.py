"""Waiting for quota_usage to follow real deliveries.

On Dovecot 2.4, quota_clone writes absolute figures after each save, and two deliveries to one
mailbox at the same moment can, rarely, write the older figures last (docs/mailstack.md, "Quota
usage"; the next change heals it). Tests that check exact figures therefore deliver one message
at a time and wait for the row to follow each one.
"""
import time

from domains.models import QuotaUsage


def wait_for_usage(mailbox, messages, *, bytes=None, timeout=15.0):
    """Wait until `mailbox`'s quota_usage row holds `messages` (and `bytes`, when given).

    Returns the QuotaUsage row; raises AssertionError with the last figures after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        usage = QuotaUsage.objects.get(mailbox=mailbox)
        if usage.messages == messages and (bytes is None or usage.bytes == bytes):
            return usage
        if time.monotonic() > deadline:
            raise AssertionError(f"quota_usage is {usage.bytes} bytes, {usage.messages} messages; "
                                 f"expected {messages} messages" + (f", {bytes} bytes" if bytes is not None else ""))
        time.sleep(0.1)


def deliver_one_by_one(mail_stack, mailbox, address, subjects, **send_options):
    """Send one message per subject to `address`, each after the previous one is counted.

    Returns the final QuotaUsage row of `mailbox` (whose count started at zero).
    """
    usage = None
    for count, subject in enumerate(subjects, start=1):
        mail_stack.send(address, subject=subject, **send_options)
        mail_stack.wait_for_mail(address, count)
        usage = wait_for_usage(mailbox, count)
    return usage
