"""Bulk actions on the lists: one confirmation with counts, each row through its service and
audited, all or nothing, scoped to the admin's domains (issue 16)."""
import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Admin

from audit.models import AuditEntry
from domains.models import Alias, Domain, Mailbox
from tests.factories import AdminFactory, AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory
from tests.roles import make_world

pytestmark = pytest.mark.django_db

G = 1024**3


@pytest.fixture
def world():
    return make_world()


def test_bulk_deactivate_asks_once_with_counts_then_audits_each_row(world):
    a, b = (MailboxFactory(domain=world.domain, local_part=n) for n in ("ann", "ben"))
    client = world.client("domain_admin")
    url = reverse("domains:bulk", args=["mailbox"])
    data = {"action": "deactivate", "pk": [a.pk, b.pk], "next": "/mailboxes/?q=n"}
    page = client.post(url, data)
    body = page.content.decode()
    assert page.status_code == 200 and 'id="bulk-confirm"' in body and "2 mailboxes" in body
    # Says what stops, counted: mail refused, logins ended (issue 16 review).
    assert "Mail to these 2 addresses will be refused" in body and "can no longer log in" in body
    assert Mailbox.objects.filter(active=False).count() == 0
    done = client.post(url, data | {"confirmed": "1"})
    assert done.status_code == 302 and done["Location"] == "/mailboxes/?q=n"
    assert set(Mailbox.objects.filter(active=False).values_list("local_part", flat=True)) == {"ann", "ben"}
    assert AuditEntry.objects.filter(action="mailbox.update", actor=world.domain_admin).count() == 2


def test_bulk_all_matching_follows_the_list_filters(world):
    for name in ("sales1", "sales2", "other"):
        MailboxFactory(domain=world.domain, local_part=name)
    client = world.client("domain_admin")
    client.post(reverse("domains:bulk", args=["mailbox"]),
                {"action": "deactivate", "scope": "matching", "q": "sales", "confirmed": "1"})
    assert set(Mailbox.objects.filter(active=False).values_list("local_part", flat=True)) == {"sales1", "sales2"}


def test_bulk_is_all_or_nothing(world):
    world.domain.quota_bytes = 3 * G
    world.domain.save()
    a, b = (MailboxFactory(domain=world.domain, local_part=n, quota_bytes=G // 2) for n in ("ann", "ben"))
    Mailbox.objects.filter(pk=world.mailbox.pk).update(quota_bytes=G // 2)
    client = world.client("domain_admin")
    response = client.post(reverse("domains:bulk", args=["mailbox"]),
                           {"action": "set_quota", "quota": "2G", "pk": [a.pk, b.pk], "confirmed": "1"}, follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert set(Mailbox.objects.filter(pk__in=[a.pk, b.pk]).values_list("quota_bytes", flat=True)) == {G // 2}
    assert not AuditEntry.objects.filter(action="mailbox.update").exists()
    client.post(reverse("domains:bulk", args=["mailbox"]),
                {"action": "set_quota", "quota": "1G", "pk": [a.pk, b.pk], "confirmed": "1"})
    assert set(Mailbox.objects.filter(pk__in=[a.pk, b.pk]).values_list("quota_bytes", flat=True)) == {G}


def test_bulk_delete_aliases_and_alias_domains(world):
    aliases = [AliasFactory(domain=world.domain, address=f"a{n}@example.org") for n in range(3)]
    alias_domain = AliasDomainFactory(name="alias.example", target=world.domain)
    client = world.client("domain_admin")
    confirm = client.post(reverse("domains:bulk", args=["alias"]), {"action": "delete", "pk": [a.pk for a in aliases]})
    assert "3 aliases" in confirm.content.decode()
    client.post(reverse("domains:bulk", args=["alias"]), {"action": "delete", "pk": [a.pk for a in aliases],
                                                          "confirmed": "1"})
    assert not Alias.objects.filter(pk__in=[a.pk for a in aliases]).exists()
    assert AuditEntry.objects.filter(action="alias.delete").count() == 3
    client.post(reverse("domains:bulk", args=["aliasdomain"]), {"action": "deactivate", "pk": [alias_domain.pk],
                                                                "confirmed": "1"})
    alias_domain.refresh_from_db()
    assert not alias_domain.active


def test_bulk_never_reaches_outside_the_admins_domains(world):
    theirs = MailboxFactory(domain=world.other_domain, local_part="theirs")
    client = world.client("domain_admin")
    response = client.post(reverse("domains:bulk", args=["mailbox"]),
                           {"action": "delete", "pk": [theirs.pk], "confirmed": "1"}, follow=True)
    assert "Select at least one row." in response.content.decode()
    assert Mailbox.objects.filter(pk=theirs.pk).exists()
    # "All matching" with another domain's filter is a 404, not their rows.
    assert client.post(reverse("domains:bulk", args=["mailbox"]),
                       {"action": "delete", "scope": "matching", "domain": world.other_domain.pk,
                        "confirmed": "1"}).status_code == 404
    # Domains in bulk are a superadmin matter.
    assert client.post(reverse("domains:bulk", args=["domain"]),
                       {"action": "deactivate", "pk": [world.domain.pk], "confirmed": "1"}).status_code == 403


def test_superadmin_bulk_deactivates_domains_with_counts(world):
    second = DomainFactory(name="second.example")
    MailboxFactory(domain=second, local_part="x")
    client = world.client("superadmin")
    url = reverse("domains:bulk", args=["domain"])
    body = client.post(url, {"action": "deactivate", "pk": [world.domain.pk, second.pk]}).content.decode()
    assert "2 domains" in body and "holding 2 mailboxes" in body
    assert "Mail to every address of these 2 domains will be refused: 2 mailboxes and" in body
    client.post(url, {"action": "deactivate", "pk": [world.domain.pk, second.pk], "confirmed": "1"})
    assert not Domain.objects.filter(active=True, pk__in=[world.domain.pk, second.pk]).exists()


def test_lists_offer_the_bulk_bar(world):
    client = world.client("domain_admin")
    AliasFactory(domain=world.domain, address="x@example.org")
    AliasDomainFactory(name="ad.example", target=world.domain)
    for url in ("/mailboxes/", "/aliases/", "/alias-domains/"):
        body = client.get(url).content.decode()
        assert 'class="bulk"' in body and 'name="scope" value="matching"' in body, url
    assert 'class="bulk"' not in client.get("/domains/").content.decode()
    assert 'class="bulk"' in world.client("superadmin").get("/domains/").content.decode()


def test_superadmin_bulk_deactivates_admins_but_not_themselves(world):
    client = world.client("superadmin")
    url = reverse("domains:bulk", args=["admin"])
    assert 'class="bulk"' in client.get(reverse("accounts:admin-list")).content.decode()
    client.post(url, {"action": "deactivate", "pk": [world.domain_admin.pk, world.other_admin.pk], "confirmed": "1"})
    world.domain_admin.refresh_from_db()
    world.other_admin.refresh_from_db()
    assert not world.domain_admin.is_active and not world.other_admin.is_active
    assert AuditEntry.objects.filter(action="admin.update").count() == 2
    response = client.post(url, {"action": "delete", "pk": [world.superadmin.pk, world.other_admin.pk],
                                 "confirmed": "1"}, follow=True)
    assert "You cannot deactivate or delete your own account." in response.content.decode()
    world.other_admin.refresh_from_db()  # all or nothing: still there
    # Domain admins cannot reach it at all.
    dora = Client()
    dora.force_login(AdminFactory(username="dora", domains=[world.domain]))
    assert dora.post(url, {"action": "delete", "pk": [world.other_admin.pk], "confirmed": "1"}).status_code == 404
    assert Admin.objects.filter(pk=world.other_admin.pk).exists()
