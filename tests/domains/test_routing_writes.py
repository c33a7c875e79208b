"""Issue 13: every routing write runs the routing model; deletes leave no dangling destination;
a re-created address never sees the previous owner's maildir."""
import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from domains import services
from domains.models import Alias, DeletedMaildir, Mailbox

pytestmark = pytest.mark.django_db

PW = "a-password-123"


def codes(exc: ValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        return {e.code for errors in exc.error_dict.values() for e in errors}
    return {e.code for e in exc.error_list}


@pytest.fixture
def org():
    return services.domain_create(name="example.org", acting_user=None)


def test_two_aliases_naming_each_other_are_refused_naming_the_cycle(org):
    services.alias_create(domain=org, local_part="x", destinations=["y@example.org"], acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=org, local_part="y", destinations=["x@example.org"], acting_user=None)
    assert codes(exc.value) == {"routing_loop"}
    assert "y@example.org → x@example.org → y@example.org" in str(exc.value)
    assert not Alias.objects.filter(address="y@example.org").exists()   # nothing half-written


def test_a_loop_through_an_update_an_activation_and_a_forwarding(org):
    services.alias_create(domain=org, local_part="a", destinations=["b@example.org"], acting_user=None)
    b = services.alias_create(domain=org, local_part="b", destinations=["c@remote.example"], acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.alias_update(alias=b, destinations=["a@example.org"], acting_user=None)
    assert codes(exc.value) == {"routing_loop"}
    c = services.alias_create(domain=org, local_part="c", destinations=["a@example.org"], active=False,
                              acting_user=None)
    services.alias_update(alias=b, destinations=["c@example.org"], acting_user=None)  # c is inactive: no loop
    with pytest.raises(ValidationError) as exc:
        services.alias_set_active(alias=c, active=True, acting_user=None)
    assert codes(exc.value) == {"routing_loop"}
    john = services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    services.alias_create(domain=org, local_part="j", destinations=["john@example.org"], acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_set_forwarding(mailbox=john, destinations=["j@example.org"], keep_copy=False,
                                        acting_user=None)
    assert codes(exc.value) == {"routing_loop"}
    # With a copy, john expands into itself once and Postfix stops there: allowed.
    services.mailbox_set_forwarding(mailbox=john, destinations=["j@example.org"], keep_copy=True, acting_user=None)


def test_forwarding_to_the_own_address_through_an_alias_domain_is_refused(org):
    services.alias_domain_create(name="example.net", target=org, acting_user=None)
    john = services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    for keep_copy in (False, True):
        with pytest.raises(ValidationError) as exc:
            services.mailbox_set_forwarding(mailbox=john, destinations=["john@example.net"], keep_copy=keep_copy,
                                            acting_user=None)
        assert codes(exc.value) == {"routing_alias_domain_unresolved"}


def test_an_alias_domain_that_would_close_a_loop_is_refused(org):
    john = services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    # Before the alias domain exists, example.net is another server: a legitimate forwarding.
    services.mailbox_set_forwarding(mailbox=john, destinations=["john@example.net"], keep_copy=False,
                                    acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.alias_domain_create(name="example.net", target=org, acting_user=None)
    assert codes(exc.value) == {"routing_alias_domain_unresolved"}
    services.mailbox_set_forwarding(mailbox=john, destinations=[], keep_copy=False, acting_user=None)
    alias_domain = services.alias_domain_create(name="example.net", target=org, active=False, acting_user=None)
    services.alias_create(domain=org, local_part="p", destinations=["q@example.net"], acting_user=None)
    services.alias_create(domain=org, local_part="q", destinations=["p@example.org"], acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.alias_domain_set_active(alias_domain=alias_domain, active=True, acting_user=None)
    assert codes(exc.value) == {"routing_loop"}


def test_a_catchall_closing_a_loop_through_an_unknown_address_is_refused(org):
    # nobody@ -> (catch-all) a@ -> b@, unknown, -> (catch-all) a@ -> ...
    services.alias_create(domain=org, local_part="a", destinations=["b@example.org"], acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=org, local_part="", destinations=["a@example.org"], acting_user=None)
    assert codes(exc.value) == {"routing_loop"}
    # A catch-all onto an unknown address of its own domain expands into itself: no loop.
    services.alias_create(domain=org, local_part="", destinations=["nobody@example.org"], acting_user=None)


def test_unknown_destinations_stay_allowed(org):
    # Naming an address that does not exist (yet) is not a routing error: Postfix bounces it
    # for that recipient only, and `manage.py route` says so.
    services.alias_create(domain=org, local_part="a", destinations=["later@example.org", "x@remote.example"],
                          acting_user=None)


# --- deletes: the deleted addresses are removed from every other alias ---------------

def test_deleting_a_domain_removes_its_addresses_from_other_domains_aliases(org):
    other = services.domain_create(name="other.example", acting_user=None)
    services.alias_domain_create(name="other.net", target=other, acting_user=None)
    services.mailbox_create(domain=other, local_part="bob", password=PW, acting_user=None)
    services.mailbox_create(domain=org, local_part="ann", password=PW, acting_user=None)
    mixed = services.alias_create(domain=org, local_part="team",
                                  destinations=["bob@other.example", "ann@example.org"], acting_user=None)
    services.alias_create(domain=org, local_part="onlybob", destinations=["bob@other.net"], acting_user=None)
    services.alias_create(domain=org, local_part="chain", destinations=["onlybob@example.org", "x@remote.example"],
                          acting_user=None)
    services.domain_delete(domain=other, acting_user=None)
    mixed.refresh_from_db()
    assert mixed.destinations == ["ann@example.org"]
    assert not Alias.objects.filter(address="onlybob@example.org").exists()   # nothing left: deleted
    assert Alias.objects.get(address="chain@example.org").destinations == ["x@remote.example"]
    entry = AuditEntry.objects.get(action="domain.delete")
    assert {(r["alias"], tuple(r["removed"]), r["deleted"]) for r in entry.before["references"]} == {
        ("team@example.org", ("bob@other.example",), False),
        ("onlybob@example.org", ("bob@other.net",), True),
        ("chain@example.org", ("onlybob@example.org",), False),
    }
    # Someone else gets bob@other.example later: nothing of the old aliases reaches them.
    again = services.domain_create(name="other.example", acting_user=None)
    services.mailbox_create(domain=again, local_part="bob", password=PW, acting_user=None)
    assert not Alias.objects.filter(destinations__contains=["bob@other.example"]).exists()


def test_deleting_a_mailbox_removes_it_from_aliases_and_forwardings(org):
    services.alias_domain_create(name="example.net", target=org, acting_user=None)
    bob = services.mailbox_create(domain=org, local_part="bob", password=PW, acting_user=None)
    ann = services.mailbox_create(domain=org, local_part="ann", password=PW, acting_user=None)
    services.alias_create(domain=org, local_part="", destinations=["ann@example.org"], acting_user=None)
    services.alias_create(domain=org, local_part="sales", destinations=["bob@example.net"], acting_user=None)
    services.mailbox_set_forwarding(mailbox=ann, destinations=["bob@example.org"], keep_copy=True, acting_user=None)
    services.mailbox_delete(mailbox=bob, acting_user=None)
    # sales@ would otherwise go to the catch-all's owner.
    assert not Alias.objects.filter(address="sales@example.org").exists()
    assert not Alias.objects.filter(mailbox=ann).exists()   # only the copy was left: forwarding off
    entry = AuditEntry.objects.get(action="mailbox.delete")
    assert {r["alias"] for r in entry.before["references"]} == {"sales@example.org", "ann@example.org"}


def test_deleting_an_alias_domain_or_an_alias_removes_references(org):
    alias_domain = services.alias_domain_create(name="example.net", target=org, acting_user=None)
    services.mailbox_create(domain=org, local_part="ann", password=PW, acting_user=None)
    keep = services.alias_create(domain=org, local_part="k", destinations=["ann@example.net", "ann@example.org"],
                                 acting_user=None)
    services.alias_domain_delete(alias_domain=alias_domain, acting_user=None)
    keep.refresh_from_db()
    assert keep.destinations == ["ann@example.org"]
    inner = services.alias_create(domain=org, local_part="inner", destinations=["ann@example.org"], acting_user=None)
    outer = services.alias_create(domain=org, local_part="outer", destinations=["inner@example.org", "x@r.example"],
                                  acting_user=None)
    services.alias_delete(alias=inner, acting_user=None)
    outer.refresh_from_db()
    assert outer.destinations == ["x@r.example"]
    assert AuditEntry.objects.get(action="alias.delete").before["references"][0]["alias"] == "outer@example.org"


def test_confirmation_pages_list_references_from_other_domains(client, superadmin, org):
    other = services.domain_create(name="other.example", acting_user=None)
    bob = services.mailbox_create(domain=other, local_part="bob", password=PW, acting_user=None)
    services.alias_create(domain=org, local_part="team", destinations=["bob@other.example", "x@r.example"],
                          acting_user=None)
    client.force_login(superadmin)
    for url in (f"/mailboxes/{bob.pk}/delete/", f"/domains/{other.pk}/delete/"):
        page = client.get(url).content.decode()
        assert "team@example.org" in page and "bob@other.example" in page, url


# --- maildirs ------------------------------------------------------------------------

def test_a_recreated_address_never_gets_the_previous_maildir(org):
    first = services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    assert first.maildir == "example.org/john/"
    services.mailbox_delete(mailbox=first, acting_user=None)
    assert DeletedMaildir.objects.filter(maildir="example.org/john/", address="john@example.org").exists()
    second = services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    assert second.maildir == "example.org/john@2/"
    services.mailbox_delete(mailbox=second, acting_user=None)
    third = services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    assert third.maildir == "example.org/john@3/"
    services.domain_delete(domain=org, acting_user=None)
    assert DeletedMaildir.objects.filter(maildir="example.org/john@3/").exists()
    org = services.domain_create(name="example.org", acting_user=None)
    assert services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None).maildir \
        == "example.org/john@4/"
    assert Mailbox.objects.count() == 1


def test_maildirs_purge(org, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    root = tmp_path / "vmail"
    (root / "example.org" / "john" / "Maildir" / "new").mkdir(parents=True)
    (root / "example.org" / "john" / "Maildir" / "new" / "1.msg").write_text("secret")
    (root / "example.org" / "kept").mkdir(parents=True)
    john = services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None)
    services.mailbox_delete(mailbox=john, acting_user=None)
    out = StringIO()
    call_command("maildirs", "purge", "--older-than", "1", "--mail-root", str(root), stdout=out)
    assert "0 maildirs" in out.getvalue() and (root / "example.org" / "john").exists()   # too recent
    out = StringIO()
    call_command("maildirs", "purge", "--older-than", "0", "--dry-run", "--mail-root", str(root), stdout=out)
    assert f"would remove {root}/example.org/john" in out.getvalue() and (root / "example.org" / "john").exists()
    archive = tmp_path / "archive"
    archive.mkdir()
    call_command("maildirs", "purge", "--older-than", "0", "--archive", str(archive), "--mail-root", str(root),
                 stdout=StringIO())
    assert not (root / "example.org" / "john").exists() and (root / "example.org" / "kept").exists()
    assert (archive / "example.org_john" / "Maildir" / "new" / "1.msg").read_text() == "secret"
    assert DeletedMaildir.objects.get(maildir="example.org/john/").purged is not None
    # Purged, the name stays reserved: a new john still gets a fresh directory.
    assert services.mailbox_create(domain=org, local_part="john", password=PW, acting_user=None).maildir \
        == "example.org/john@2/"


def test_the_check_loads_only_what_the_address_reaches(org, django_assert_max_num_queries):
    from domains.routing_db import routing_problems

    services.alias_domain_create(name="example.net", target=org, acting_user=None)
    services.mailbox_create(domain=org, local_part="ann", password=PW, acting_user=None)
    services.alias_create(domain=org, local_part="inner", destinations=["ann@example.net"], acting_user=None)
    services.alias_create(domain=org, local_part="team", destinations=["inner@example.org", "ann@example.org",
                                                                      "x@remote.example"], acting_user=None)
    # One query (after its SET LOCALs and, once per connection, its PREPARE; see
    # domains/routing_db.py), whatever the depth: a new mailbox, itself only;
    # team -> inner -> ann@example.net -> ann@example.org, and every alias reaching team.
    with django_assert_max_num_queries(3):
        assert routing_problems(["ann@example.org"], upstream=False) == []
    with django_assert_max_num_queries(2):
        assert routing_problems(["team@example.org"]) == []
    services.alias_create(domain=org, local_part="outer", destinations=["team@example.net"], acting_user=None)
    with django_assert_max_num_queries(2):   # outer reaches ann through team, via the alias domain
        assert routing_problems(["ann@example.org"]) == []
