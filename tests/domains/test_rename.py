"""Renaming a mailbox: the address changes, the maildir stays, its forwarding, the aliases
that named it and its quota row follow, every change audited (issue 16)."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from domains import services
from domains.models import Alias, Mailbox, QuotaUsage
from tests.factories import AliasDomainFactory, AliasFactory, MailboxFactory
from tests.roles import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def test_rename_keeps_the_maildir_and_moves_everything_that_named_it(world):
    bob = world.mailbox
    QuotaUsage.objects.filter(mailbox=bob).update(bytes=1234)
    services.mailbox_set_forwarding(mailbox=bob, destinations=["far@x.example"], keep_copy=True, acting_user=None)
    team = AliasFactory(domain=world.domain, address="team@example.org", destinations=["bob@example.org", "z@x.example"])
    elsewhere = AliasFactory(domain=world.other_domain, address="b@other.example", destinations=["bob@example.org"])
    services.mailbox_rename(mailbox=bob, local_part="Robert", acting_user=world.domain_admin)
    bob.refresh_from_db()
    assert bob.address == "robert@example.org" and bob.local_part == "robert"
    assert bob.maildir == "example.org/bob/"  # nothing moves on disk
    assert QuotaUsage.objects.get(mailbox=bob).bytes == 1234
    forwarding = Alias.objects.get(mailbox=bob)
    assert forwarding.address == "robert@example.org"
    assert forwarding.destinations == ["robert@example.org", "far@x.example"]
    team.refresh_from_db()
    elsewhere.refresh_from_db()
    assert team.destinations == ["robert@example.org", "z@x.example"]
    assert elsewhere.destinations == ["robert@example.org"]
    actions = sorted(AuditEntry.objects.filter(actor=world.domain_admin).values_list("action", flat=True))
    assert actions == ["alias.update", "alias.update", "forwarding.update", "mailbox.rename"]
    entry = AuditEntry.objects.get(action="mailbox.rename")
    assert entry.before["address"] == "bob@example.org" and entry.after["address"] == "robert@example.org"


def test_forwarding_without_copy_follows_too(world):
    services.mailbox_set_forwarding(mailbox=world.mailbox, destinations=["far@x.example"], keep_copy=False,
                                    acting_user=None)
    services.mailbox_rename(mailbox=world.mailbox, local_part="robert", acting_user=None)
    forwarding = Alias.objects.get(mailbox=world.mailbox)
    assert forwarding.address == "robert@example.org" and forwarding.destinations == ["far@x.example"]


@pytest.mark.parametrize("taken", ["mailbox", "alias"])
def test_rename_to_a_taken_address_is_refused(world, taken):
    if taken == "mailbox":
        MailboxFactory(domain=world.domain, local_part="carla")
    else:
        AliasFactory(domain=world.domain, address="carla@example.org")
    with pytest.raises(ValidationError) as error:
        services.mailbox_rename(mailbox=world.mailbox, local_part="carla", acting_user=None)
    assert error.value.error_dict["local_part"][0].code == "address_taken"
    assert Mailbox.objects.get(pk=world.mailbox.pk).address == "bob@example.org"


def test_rename_page_shows_the_error_at_the_field(world):
    MailboxFactory(domain=world.domain, local_part="carla")
    client = world.client("domain_admin")
    url = reverse("domains:mailbox-rename", args=[world.mailbox.pk])
    response = client.post(url, {"local_part": "carla"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert response.context["form"].has_error("local_part", "address_taken")
    response = client.post(url, {"local_part": "not valid"})
    assert response.context["form"].has_error("local_part")
    done = client.post(url, {"local_part": "robert"})
    assert done.status_code == 302 and done["Location"] == reverse("domains:mailbox-detail", args=[world.mailbox.pk])


def test_mailbox_page_shows_usage_forwarding_aliases_and_history(world):
    AliasFactory(domain=world.domain, address="team@example.org", destinations=["bob@example.org"])
    services.mailbox_update(mailbox=world.mailbox, quota_bytes=2 * 1024**3, acting_user=world.superadmin)
    body = world.client("domain_admin").get(reverse("domains:mailbox-detail", args=[world.mailbox.pk])).content.decode()
    assert "team@example.org" in body and "Mailbox changed" in body and "2.0\xa0GB" in body
    for action in ("mailbox-password", "mailbox-forwarding", "mailbox-rename", "mailbox-delete", "mailbox-update"):
        assert reverse(f"domains:{action}", args=[world.mailbox.pk]) in body


def test_aliases_naming_it_through_an_alias_domain_follow_too(world):
    """b@other.example reached bob through bob@alias.example, an alias-domain form of the
    address: after the rename it must reach robert, not bounce as unknown (review-ui)."""
    AliasDomainFactory(name="alias.example", target=world.domain)
    elsewhere = AliasFactory(domain=world.other_domain, address="b@other.example",
                             destinations=["bob@alias.example", "bob@other.example"])
    services.mailbox_rename(mailbox=world.mailbox, local_part="robert", acting_user=world.domain_admin)
    elsewhere.refresh_from_db()
    assert elsewhere.destinations == ["robert@alias.example", "bob@other.example"]
