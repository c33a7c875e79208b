"""Every list page costs the same number of queries for 1 row as for 6: no per-row query
(a deferred column or an unfetched relation read in a row template)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from tests.factories import (AdminFactory, AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory,
                             SuperadminFactory)

pytestmark = pytest.mark.django_db

PAGES = ["/domains/", "/mailboxes/", "/domains/{domain}/mailboxes/", "/aliases/", "/domains/{domain}/aliases/",
         "/alias-domains/", "/quota/", "/audit/", "/accounts/admins/", "/domains/{domain}/"]


def world(rows: int):
    domain = DomainFactory()
    for _ in range(rows):
        mailbox = MailboxFactory(domain=domain)
        AliasFactory(domain=domain, destinations=[mailbox.address])
        AliasFactory(domain=domain, address=f"fwd-{mailbox.local_part}@{domain.name}", mailbox=mailbox,
                     destinations=["out@elsewhere.example"])
        AliasDomainFactory(target=DomainFactory())
        AdminFactory(domains=[domain])
        AuditEntry.objects.create(actor_label="root", action="domain.update", domain_name=domain.name,
                                  domain_id=domain.pk, object_type="domain", object_repr=domain.name)
    return domain


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("page", PAGES)
def test_list_page_query_count_does_not_grow_with_its_rows(client, page):
    client.force_login(SuperadminFactory())
    counts = []
    for rows in (1, 6):
        AuditEntry.objects.all().delete()
        domain = world(rows)
        url = page.format(domain=domain.pk)
        client.get(url)   # warm: the session's first read
        counts.append((queries_for(client, url), rows))
    (small, _), (large, _) = counts
    assert large == small, f"{page}: {small} queries with 1 row, {large} with 6"
