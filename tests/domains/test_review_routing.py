"""Review of issue 13: routing paths the write-time checks and the explainer missed."""
import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from audit.models import AuditEntry
from domains import services
from domains.models import Alias, Mailbox
from domains.routing_db import resolve
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

PW = "a-password-123"


def test_rename_cannot_close_a_loop():
    org = services.domain_create(name="example.org", acting_user=None)
    services.alias_create(domain=org, local_part="a", destinations=["b@example.org"], acting_user=None)
    x = services.mailbox_create(domain=org, local_part="x", password=PW, acting_user=None)
    services.mailbox_set_forwarding(mailbox=x, destinations=["a@example.org"], keep_copy=False, acting_user=None)
    with pytest.raises(ValidationError, match="loop"):
        services.mailbox_rename(mailbox=x, local_part="b", acting_user=None)
    assert Mailbox.objects.get(pk=x.pk).local_part == "x"


def test_route_page_hides_another_domains_external_forwarding(client):
    org = services.domain_create(name="example.org", acting_user=None)
    other = services.domain_create(name="other.example", acting_user=None)
    secret = services.mailbox_create(domain=other, local_part="secret", password=PW, acting_user=None)
    services.mailbox_set_forwarding(mailbox=secret, destinations=["private-home@remote.example"],
                                    keep_copy=True, acting_user=None)
    services.alias_create(domain=org, local_part="probe", destinations=["secret@other.example"], acting_user=None)
    client.force_login(AdminFactory(domains=[org]))
    page = client.get("/route/", {"address": "probe@example.org"}).content.decode()
    assert "a domain you do not manage" in page
    assert "private-home" not in page


def test_domain_reactivation_cannot_close_a_loop():
    one = services.domain_create(name="one.example", acting_user=None)
    two = services.domain_create(name="two.example", acting_user=None)
    services.alias_create(domain=two, local_part="a", destinations=["b@one.example"], acting_user=None)
    services.domain_set_active(domain=two, active=False, acting_user=None)
    # While two.example is inactive, a@two.example is another server's address: accepted.
    services.alias_create(domain=one, local_part="b", destinations=["a@two.example"], acting_user=None)
    with pytest.raises(ValidationError, match="loop"):
        services.domain_set_active(domain=two, active=True, acting_user=None)


def test_domain_reactivation_cannot_close_a_loop_through_its_alias_domain():
    one = services.domain_create(name="one.example", acting_user=None)
    two = services.domain_create(name="two.example", acting_user=None)
    services.alias_domain_create(name="two.net", target=two, acting_user=None)
    services.domain_set_active(domain=two, active=False, acting_user=None)
    # two.net is an alias domain of an inactive domain, so no alias domain: another server.
    services.alias_create(domain=two, local_part="a", destinations=["b@one.example"], acting_user=None)
    services.alias_create(domain=one, local_part="b", destinations=["a@two.net"], acting_user=None)
    with pytest.raises(ValidationError, match="loop"):
        services.domain_set_active(domain=two, active=True, acting_user=None)


def test_alias_domain_activation_cannot_close_a_loop_through_a_catchall():
    two = services.domain_create(name="two.example", acting_user=None)
    other = services.domain_create(name="c.example", acting_user=None)
    alias_domain = services.alias_domain_create(name="two.net", target=two, active=False, acting_user=None)
    services.alias_create(domain=other, local_part="", destinations=["x@two.net"], acting_user=None)
    services.alias_create(domain=two, local_part="x", destinations=["anyone@c.example"], acting_user=None)
    with pytest.raises(ValidationError, match="loop"):
        services.alias_domain_set_active(alias_domain=alias_domain, active=True, acting_user=None)


def test_the_write_check_prepares_its_statement_again_when_the_session_lost_it():
    # A pooler in transaction mode hands the next transaction another server session, and
    # its reset query (DISCARD ALL) deallocates prepared statements: the same thing, here.
    org = services.domain_create(name="example.org", acting_user=None)
    services.alias_create(domain=org, local_part="a", destinations=["b@example.org"], acting_user=None)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    services.alias_create(domain=org, local_part="b", destinations=["c@example.org"], acting_user=None)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(ValidationError, match="loop"):
        services.alias_create(domain=org, local_part="c", destinations=["a@example.org"], acting_user=None)


def test_a_delete_removes_the_deleted_address_with_an_extension_from_other_aliases(settings):
    # With recipient_delimiter "+" (the default), bob+lists@b names bob@b: left behind, it
    # would loop through b's catch-all (x -> bob+lists -> @b -> x: 451 for every message to
    # x), and the next bob@b would receive x's mail.
    a = services.domain_create(name="a.example", acting_user=None)
    b = services.domain_create(name="b.example", acting_user=None)
    bob = services.mailbox_create(domain=b, local_part="bob", password=PW, acting_user=None)
    services.mailbox_create(domain=b, local_part="bobby", password=PW, acting_user=None)
    settings.MAILADMIN_RECIPIENT_DELIMITER = "+"
    services.alias_create(domain=a, local_part="x", destinations=["bob+lists@b.example", "bobby+z@b.example"],
                          acting_user=None)
    services.alias_create(domain=a, local_part="y", destinations=["bob+news@b.example"], acting_user=None)
    services.alias_create(domain=b, local_part="", destinations=["x@a.example"], acting_user=None)
    services.mailbox_delete(mailbox=bob, acting_user=None)
    assert Alias.objects.get(address="x@a.example").destinations == ["bobby+z@b.example"]
    assert not Alias.objects.filter(address="y@a.example").exists()
    assert not resolve("x@a.example").error
    entry = AuditEntry.objects.get(action="mailbox.delete")
    assert {r["alias"] for r in entry.before["references"]} == {"x@a.example", "y@a.example"}


def test_a_rename_carries_the_name_with_an_extension_in_other_aliases(settings):
    settings.MAILADMIN_RECIPIENT_DELIMITER = "+"
    a = services.domain_create(name="a.example", acting_user=None)
    b = services.domain_create(name="b.example", acting_user=None)
    bob = services.mailbox_create(domain=b, local_part="bob", password=PW, acting_user=None)
    services.alias_create(domain=a, local_part="x", destinations=["bob+lists@b.example", "bob@b.example"],
                          acting_user=None)
    services.mailbox_rename(mailbox=bob, local_part="robert", acting_user=None)
    assert Alias.objects.get(address="x@a.example").destinations == ["robert+lists@b.example", "robert@b.example"]
    # The next bob@b.example receives nothing of x's.
    services.mailbox_create(domain=b, local_part="bob", password=PW, acting_user=None)
    assert set(resolve("x@a.example").mailboxes) == {"robert@b.example"}
