"""Rows per page: 25, 50 or 100, remembered per admin, on every list (issue 16)."""
import pytest
from django.urls import reverse

from tests.factories import AliasFactory, MailboxFactory
from tests.roles import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def test_page_size_is_remembered_per_admin_and_used_by_every_list(world):
    for n in range(60):
        MailboxFactory(domain=world.domain, local_part=f"m{n:02d}")
        AliasFactory(domain=world.domain, address=f"a{n:02d}@example.org")
    alice = world.client("domain_admin")
    assert len(alice.get(reverse("domains:mailbox-list")).context["page"].object_list) == 25
    response = alice.post(reverse("accounts:page-size"), {"size": "50", "next": "/mailboxes/?q=m&page=2"})
    assert response.status_code == 302 and response["Location"] == "/mailboxes/?q=m"
    world.domain_admin.refresh_from_db()
    assert world.domain_admin.list_page_size == 50
    assert len(alice.get(reverse("domains:mailbox-list")).context["page"].object_list) == 50
    assert len(alice.get(reverse("domains:alias-list")).context["page"].object_list) == 50
    # Another admin keeps their own choice.
    root = world.client("superadmin")
    assert len(root.get(reverse("domains:mailbox-list")).context["page"].object_list) == 25
    page = root.get(reverse("domains:mailbox-list")).content.decode()
    assert 'name="size"' in page and '<option value="25" selected>' in page


@pytest.mark.parametrize("size", ["10", "1000", "abc", ""])
def test_page_size_outside_the_choices_is_refused(world, size):
    client = world.client("domain_admin")
    client.post(reverse("accounts:page-size"), {"size": size, "next": "/mailboxes/"})
    world.domain_admin.refresh_from_db()
    assert world.domain_admin.list_page_size == 25


def test_page_size_next_stays_on_this_site(world):
    response = world.client("domain_admin").post(reverse("accounts:page-size"),
                                                 {"size": "100", "next": "https://evil.example/"})
    assert response["Location"] == reverse("domains:dashboard")
