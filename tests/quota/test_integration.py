"""Real deliveries through Postfix and Dovecot raise usage; page, CSV and report show it."""
import io
import json

import pytest
from django.core.management import call_command

from domains import services
from tests.mailstack.usage import deliver_one_by_one

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def test_deliveries_show_up_in_page_csv_and_report(mail_stack, client):
    from tests.factories import SuperadminFactory

    domain = services.domain_create(name="quota.example", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="heavy", password="pw", quota_bytes=1024**2,
                                      acting_user=None)
    usage = deliver_one_by_one(mail_stack, mailbox, "heavy@quota.example", [f"big {i}" for i in range(3)],
                               size=100_000)
    assert usage.messages == 3 and usage.bytes > 300_000 and usage.fill_ratio > 0.28

    client.force_login(SuperadminFactory())
    page = client.get("/quota/?q=heavy").content.decode()
    assert "heavy@quota.example" in page and f"{usage.fill_ratio * 100:.0f} %" in page
    exported = b"".join(client.get("/quota/export.csv?q=heavy").streaming_content).decode()
    assert f"heavy@quota.example,quota.example,1,{1024**2},{usage.bytes},3," in exported
    out = io.StringIO()
    call_command("quota", "report", "--format", "json", "--domain", "quota.example", stdout=out)
    (record,) = json.loads(out.getvalue())
    assert record["used_bytes"] == usage.bytes and record["messages"] == 3
