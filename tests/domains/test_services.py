import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import AuditEntry
from domains import services
from domains.models import Alias, AliasDomain, Domain, Mailbox, QuotaUsage
from domains.passwords import verify_argon2id
from tests.factories import AdminFactory, AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory

pytestmark = pytest.mark.django_db

M = 1024**2
G = 1024**3


def error_codes(exc: ValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        return {e.code for errors in exc.error_dict.values() for e in errors}
    return {e.code for e in exc.error_list}


# --- domains -----------------------------------------------------------------------

def test_domain_create_normalizes_and_audits(superadmin):
    domain = services.domain_create(name="Bücher.Example", description=" Books ", acting_user=superadmin)
    assert domain.name == "xn--bcher-kva.example"
    assert domain.display_name == "bücher.example"
    assert domain.description == "Books"
    entry = AuditEntry.objects.get(action="domain.create")
    assert entry.actor == superadmin
    assert entry.domain_name == "xn--bcher-kva.example"
    assert entry.after["name"] == "xn--bcher-kva.example"


def test_domain_create_from_cli_is_audited_without_actor():
    services.domain_create(name="cli.example", acting_user=None)
    entry = AuditEntry.objects.get(action="domain.create")
    assert entry.actor is None and entry.actor_label.startswith("cli")


def test_domain_create_rejects_duplicate_in_any_case(superadmin):
    services.domain_create(name="example.com", acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.domain_create(name="EXAMPLE.com", acting_user=superadmin)
    assert "name" in exc.value.error_dict
    assert Domain.objects.count() == 1


def test_domain_create_rejects_bad_name_with_field_error(superadmin):
    with pytest.raises(ValidationError) as exc:
        services.domain_create(name="not a domain", acting_user=superadmin)
    assert "name" in exc.value.error_dict
    assert not Domain.objects.exists()
    assert not AuditEntry.objects.exists()


def test_domain_create_rejects_alias_domain_name(superadmin):
    AliasDomainFactory(name="alias.example")
    with pytest.raises(ValidationError) as exc:
        services.domain_create(name="alias.example", acting_user=superadmin)
    assert error_codes(exc.value) == {"name_is_alias_domain"}


@pytest.mark.parametrize("limits, field", [
    ({"max_quota_bytes": 1 * G, "default_quota_bytes": 2 * G}, "default_quota_bytes"),
    ({"max_quota_bytes": 1 * G, "default_quota_bytes": 0}, "default_quota_bytes"),
    ({"quota_bytes": 1 * G, "max_quota_bytes": 2 * G, "default_quota_bytes": 1 * G}, "max_quota_bytes"),
    ({"quota_bytes": 1 * G, "default_quota_bytes": 0}, "default_quota_bytes"),
])
def test_domain_create_rejects_inconsistent_quotas(superadmin, limits, field):
    with pytest.raises(ValidationError) as exc:
        services.domain_create(name="q.example", acting_user=superadmin, **limits)
    assert field in exc.value.error_dict


def test_database_rejects_negative_and_upper_case():
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.create(name="UPPER.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.create(name="neg.example", quota_bytes=-1)
    domain = DomainFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.create(domain=domain, local_part="Bob", address=f"Bob@{domain.name}",
                               maildir="x/", password="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.create(domain=domain, local_part="bob", address=f"bob@{domain.name}",
                               maildir="/etc/", password="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Alias.objects.create(domain=domain, address=f"a@{domain.name}", destinations=[])


def test_domain_update_records_only_changes(superadmin):
    domain = services.domain_create(name="up.example", acting_user=superadmin)
    services.domain_update(domain=domain, description="new", max_mailboxes=5, acting_user=superadmin)
    entry = AuditEntry.objects.get(action="domain.update")
    assert entry.before == {"description": "", "max_mailboxes": 0}
    assert entry.after == {"description": "new", "max_mailboxes": 5}


def test_domain_update_refuses_limits_below_usage(superadmin, domain):
    for i in range(3):
        services.mailbox_create(domain=domain, local_part=f"u{i}", password="pw-123456789012", acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.domain_update(domain=domain, max_mailboxes=2, acting_user=superadmin)
    assert "max_mailboxes" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.domain_update(domain=domain, backup_mx=True, acting_user=superadmin)
    assert "backup_mx" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.domain_update(domain=domain, quota_bytes=1 * G, default_quota_bytes=100 * M,
                               acting_user=superadmin)
    assert "quota_bytes" in exc.value.error_dict  # the existing mailboxes are unlimited
    domain.refresh_from_db()
    assert domain.max_mailboxes == 0 and not domain.backup_mx


def test_domain_update_rejects_unknown_fields(superadmin, domain):
    with pytest.raises(TypeError):
        services.domain_update(domain=domain, name="other.example", acting_user=superadmin)


def test_domain_delete_cascades_and_reports(superadmin, domain):
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    services.mailbox_set_forwarding(mailbox=mailbox, destinations=["x@other.example"], keep_copy=True,
                                    acting_user=superadmin)
    services.alias_create(domain=domain, local_part="info", destinations=["a@example.org"], acting_user=superadmin)
    services.alias_domain_create(name="example.net", target=domain, acting_user=superadmin)
    other = MailboxFactory()
    summary = services.domain_delete(domain=domain, acting_user=superadmin)
    assert summary == {"mailboxes": 1, "aliases": 2, "alias_domains": 1}
    assert not Mailbox.objects.filter(domain_id=domain.pk).exists()
    assert not Alias.objects.exists()
    assert not AliasDomain.objects.exists()
    assert list(QuotaUsage.objects.values_list("mailbox_id", flat=True)) == [other.address]
    entry = AuditEntry.objects.get(action="domain.delete")
    assert entry.before["deleted"] == summary and entry.domain_name == "example.org"


# --- mailboxes ---------------------------------------------------------------------

def test_mailbox_create(superadmin, domain):
    mailbox = services.mailbox_create(domain=domain, local_part=" John.Doe ", password="s3cret-password",
                                      name="John", acting_user=superadmin)
    assert mailbox.address == "john.doe@example.org"
    assert mailbox.maildir == "example.org/john.doe/"
    assert mailbox.password.startswith("{ARGON2ID}$argon2id$v=19$")
    assert verify_argon2id(mailbox.password, "s3cret-password")
    assert not verify_argon2id(mailbox.password, "wrong")
    usage = QuotaUsage.objects.get(mailbox=mailbox)
    assert (usage.bytes, usage.messages, usage.updated_at) == (0, 0, None)
    entry = AuditEntry.objects.get(action="mailbox.create")
    assert "password" not in entry.after and "s3cret" not in str(entry.after)


def test_mailbox_create_in_idn_domain(superadmin):
    domain = services.domain_create(name="bücher.example", acting_user=superadmin)
    mailbox = services.mailbox_create(domain=domain, local_part="info", password="pw", acting_user=superadmin)
    assert mailbox.address == "info@xn--bcher-kva.example"
    assert mailbox.display_address == "info@bücher.example"


def test_mailbox_create_rejects_duplicates_and_aliases(superadmin, domain):
    services.mailbox_create(domain=domain, local_part="bob", password="pw", acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="BOB", password="pw", acting_user=superadmin)
    assert error_codes(exc.value) == {"address_is_mailbox"}
    services.alias_create(domain=domain, local_part="sales", destinations=["bob@example.org"],
                          acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="sales", password="pw", acting_user=superadmin)
    assert error_codes(exc.value) == {"address_is_alias"}
    assert Mailbox.objects.count() == 1


@pytest.mark.parametrize("local_part", ["", "a b", "a/b", "../x", "é"])
def test_mailbox_create_rejects_bad_local_part(superadmin, domain, local_part):
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part=local_part, password="pw", acting_user=superadmin)
    assert "local_part" in exc.value.error_dict
    assert not Mailbox.objects.exists() and not QuotaUsage.objects.exists()


def test_mailbox_create_requires_password(superadmin, domain):
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="bob", password="", acting_user=superadmin)
    assert "password" in exc.value.error_dict


def test_mailbox_limit(superadmin):
    domain = services.domain_create(name="small.example", max_mailboxes=2, acting_user=superadmin)
    for name in ("a", "b"):
        services.mailbox_create(domain=domain, local_part=name, password="pw", acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="c", password="pw", acting_user=superadmin)
    assert error_codes(exc.value) == {"mailbox_limit_reached"}
    assert "at most 2 mailboxes" in exc.value.messages[0]


def test_mailbox_quota_rules(superadmin):
    domain = services.domain_create(name="quota.example", quota_bytes=3 * G, max_quota_bytes=2 * G,
                                    default_quota_bytes=1 * G, acting_user=superadmin)
    first = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    assert first.quota_bytes == 1 * G  # the domain default
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="b", password="pw", quota_bytes=3 * G,
                                acting_user=superadmin)
    assert error_codes(exc.value) == {"quota_above_max"}
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="b", password="pw", quota_bytes=0,
                                acting_user=superadmin)
    assert error_codes(exc.value) == {"quota_unlimited_not_allowed"}
    services.mailbox_create(domain=domain, local_part="b", password="pw", quota_bytes=2 * G, acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="c", password="pw", quota_bytes=1, acting_user=superadmin)
    assert error_codes(exc.value) == {"domain_quota_exceeded"}
    # Raising one mailbox counts the others, not itself.
    services.mailbox_update(mailbox=first, quota_bytes=1 * G, name="same", acting_user=superadmin)
    with pytest.raises(ValidationError):
        services.mailbox_update(mailbox=first, quota_bytes=1 * G + 1, acting_user=superadmin)


def test_mailbox_update_and_toggle(superadmin, domain):
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    services.mailbox_set_active(mailbox=mailbox, active=False, acting_user=superadmin)
    mailbox.refresh_from_db()
    assert mailbox.active is False
    entry = AuditEntry.objects.get(action="mailbox.update")
    assert entry.before == {"active": True} and entry.after == {"active": False}
    with pytest.raises(TypeError):
        services.mailbox_update(mailbox=mailbox, address="x@example.org", acting_user=superadmin)


def test_mailbox_set_password_is_audited_without_secret(superadmin, domain):
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="old-password", acting_user=superadmin)
    old_hash = mailbox.password
    services.mailbox_set_password(mailbox=mailbox, password="new-password-123", acting_user=superadmin)
    mailbox.refresh_from_db()
    assert mailbox.password != old_hash
    assert verify_argon2id(mailbox.password, "new-password-123")
    entry = AuditEntry.objects.get(action="mailbox.password")
    assert entry.before is None and entry.after is None
    for e in AuditEntry.objects.all():
        assert "ARGON2" not in str(e.before) + str(e.after)
        assert "old-password" not in str(e.before) + str(e.after)
        assert "new-password" not in str(e.before) + str(e.after)


def test_mailbox_delete_takes_usage_and_forwarding(superadmin, domain):
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    services.mailbox_set_forwarding(mailbox=mailbox, destinations=["x@other.example"], keep_copy=False,
                                    acting_user=superadmin)
    services.mailbox_delete(mailbox=mailbox, acting_user=superadmin)
    assert not Mailbox.objects.exists() and not QuotaUsage.objects.exists() and not Alias.objects.exists()
    entry = AuditEntry.objects.get(action="mailbox.delete")
    assert entry.before["forwarding"] == ["x@other.example"]


def test_backup_mx_domain_holds_no_addresses(superadmin):
    domain = services.domain_create(name="relay.example", backup_mx=True, acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    assert error_codes(exc.value) == {"domain_is_backup_mx"}
    with pytest.raises(ValidationError):
        services.alias_create(domain=domain, local_part="a", destinations=["x@y.example"], acting_user=superadmin)


# --- forwarding --------------------------------------------------------------------

def test_forwarding_keep_copy_and_stop(superadmin, domain):
    mailbox = services.mailbox_create(domain=domain, local_part="bob", password="pw", acting_user=superadmin)
    alias = services.mailbox_set_forwarding(mailbox=mailbox, destinations=["Bob@Other.Example", "bob@other.example"],
                                            keep_copy=True, acting_user=superadmin)
    assert alias.address == "bob@example.org" and alias.mailbox == mailbox
    assert alias.destinations == ["bob@example.org", "bob@other.example"]
    alias = services.mailbox_set_forwarding(mailbox=mailbox, destinations=["c@other.example"], keep_copy=False,
                                            acting_user=superadmin)
    assert alias.destinations == ["c@other.example"]
    assert services.mailbox_set_forwarding(mailbox=mailbox, destinations=[], keep_copy=False,
                                           acting_user=superadmin) is None
    assert not Alias.objects.exists()
    assert [e.action for e in AuditEntry.objects.order_by("id")][-3:] == [
        "forwarding.create", "forwarding.update", "forwarding.delete"]


def test_forwarding_does_not_count_against_alias_limit(superadmin):
    domain = services.domain_create(name="lim.example", max_aliases=1, acting_user=superadmin)
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    services.mailbox_set_forwarding(mailbox=mailbox, destinations=["x@o.example"], keep_copy=True,
                                    acting_user=superadmin)
    services.alias_create(domain=domain, local_part="info", destinations=["a@lim.example"], acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=domain, local_part="sales", destinations=["a@lim.example"], acting_user=superadmin)
    assert error_codes(exc.value) == {"alias_limit_reached"}


def test_forwarding_external_disallowed(superadmin):
    domain = services.domain_create(name="closed.example", allow_external_forwarding=False, acting_user=superadmin)
    other = services.domain_create(name="sister.example", acting_user=superadmin)
    services.alias_domain_create(name="alias-of-sister.example", target=other, acting_user=superadmin)
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_set_forwarding(mailbox=mailbox, destinations=["x@gmail.example"], keep_copy=True,
                                        acting_user=superadmin)
    assert error_codes(exc.value) == {"external_forwarding_disallowed"}
    alias = services.mailbox_set_forwarding(mailbox=mailbox, destinations=["x@sister.example",
                                            "y@alias-of-sister.example"], keep_copy=False, acting_user=superadmin)
    assert alias.destinations == ["x@sister.example", "y@alias-of-sister.example"]


def test_forwarding_counts_only_names_this_server_delivers_as_local(superadmin):
    # Review of issue 11: a domain admin's pending alias-domain request (or a relayed backup-MX
    # domain) let mail users of a closed domain forward their mail off the server.
    domain = services.domain_create(name="closed.example", allow_external_forwarding=False, acting_user=superadmin)
    tenant = services.domain_create(name="tenant.example", acting_user=superadmin)
    services.domain_create(name="relayed.example", backup_mx=True, acting_user=superadmin)
    services.domain_create(name="off.example", active=False, acting_user=superadmin)
    services.alias_domain_create(name="exfil.example", target=tenant, acting_user=AdminFactory(domains=[tenant]))
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    for target in ("x@exfil.example", "x@relayed.example", "x@off.example"):
        with pytest.raises(ValidationError) as exc:
            services.mailbox_set_forwarding(mailbox=mailbox, destinations=[target], keep_copy=True,
                                            acting_user=superadmin)
        assert error_codes(exc.value) == {"external_forwarding_disallowed"}, target


def test_forwarding_needs_a_target(superadmin, domain):
    mailbox = services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.mailbox_set_forwarding(mailbox=mailbox, destinations=["a@example.org"], keep_copy=False,
                                        acting_user=superadmin)
    assert error_codes(exc.value) == {"destinations_empty"}


# --- aliases -----------------------------------------------------------------------

def test_alias_create_with_several_destinations(superadmin, domain):
    alias = services.alias_create(domain=domain, local_part="Team", acting_user=superadmin,
                                  destinations=["A@example.org", " b@Other.example ", "", "a@example.org"])
    assert alias.address == "team@example.org"
    assert alias.destinations == ["a@example.org", "b@other.example"]


def test_alias_catchall(superadmin, domain):
    alias = services.alias_create(domain=domain, local_part="", destinations=["a@example.org"], acting_user=superadmin)
    assert alias.address == "@example.org" and alias.is_catchall
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=domain, local_part="", destinations=["b@example.org"], acting_user=superadmin)
    assert "already has a catch-all" in exc.value.messages[0]


def test_alias_rejects_mailbox_address_loops_and_bad_destinations(superadmin, domain):
    services.mailbox_create(domain=domain, local_part="bob", password="pw", acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=domain, local_part="bob", destinations=["x@o.example"], acting_user=superadmin)
    assert error_codes(exc.value) == {"address_is_mailbox"}
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=domain, local_part="loop", destinations=["loop@example.org"],
                              acting_user=superadmin)
    assert error_codes(exc.value) == {"alias_loop"}
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=domain, local_part="x", destinations=["not an address"], acting_user=superadmin)
    assert "destinations" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.alias_create(domain=domain, local_part="x", destinations=["", " "], acting_user=superadmin)
    assert error_codes(exc.value) == {"destinations_empty"}
    assert not Alias.objects.exists()


def test_alias_update_toggle_delete(superadmin, domain):
    alias = services.alias_create(domain=domain, local_part="x", destinations=["a@o.example"], acting_user=superadmin)
    services.alias_update(alias=alias, destinations=["b@o.example", "c@o.example"], acting_user=superadmin)
    services.alias_set_active(alias=alias, active=False, acting_user=superadmin)
    alias.refresh_from_db()
    assert alias.destinations == ["b@o.example", "c@o.example"] and not alias.active
    services.alias_delete(alias=alias, acting_user=superadmin)
    assert not Alias.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="alias.").count() == 4


def test_find_domain_for_address(domain):
    assert services.find_domain_for_address("Info@Example.org") == (domain, "info")
    assert services.find_domain_for_address("@example.org") == (domain, "")
    with pytest.raises(ValidationError):
        services.find_domain_for_address("x@missing.example")


# --- alias domains -----------------------------------------------------------------

def test_alias_domain_rules(superadmin, domain):
    ad = services.alias_domain_create(name="Example.NET", target=domain, acting_user=superadmin)
    assert ad.name == "example.net"
    with pytest.raises(ValidationError) as exc:
        services.alias_domain_create(name="example.net", target=domain, acting_user=superadmin)
    assert "name" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.alias_domain_create(name="example.org", target=domain, acting_user=superadmin)
    assert error_codes(exc.value) == {"alias_domain_self"}
    DomainFactory(name="taken.example")
    with pytest.raises(ValidationError) as exc:
        services.alias_domain_create(name="taken.example", target=domain, acting_user=superadmin)
    assert error_codes(exc.value) == {"name_is_domain"}
    relay = services.domain_create(name="relay.example", backup_mx=True, acting_user=superadmin)
    with pytest.raises(ValidationError) as exc:
        services.alias_domain_create(name="x.example", target=relay, acting_user=superadmin)
    assert error_codes(exc.value) == {"target_is_backup_mx"}
    services.alias_domain_set_active(alias_domain=ad, active=False, acting_user=superadmin)
    ad.refresh_from_db()
    assert not ad.active
    services.alias_domain_delete(alias_domain=ad, acting_user=superadmin)
    assert not AliasDomain.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="aliasdomain.", domain_name="example.org").count() == 3


def test_failed_service_leaves_nothing_behind(superadmin, domain, monkeypatch):
    """A failure after the first write rolls back the whole service, audit row included."""
    def boom(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", boom)
    with pytest.raises(RuntimeError):
        services.mailbox_create(domain=domain, local_part="a", password="pw", acting_user=superadmin)
    assert not Mailbox.objects.exists() and not QuotaUsage.objects.exists()


def test_alias_factory_builds_valid_rows():
    alias = AliasFactory()
    assert alias.address.endswith("@" + alias.domain.name)


def test_kept_maildir_of_another_or_a_deleted_mailbox_is_refused(superadmin):
    """An imported mailbox keeps its maildir only if no other mailbox has or had it: two
    mailboxes on one Dovecot home read each other's mail (the batch path reads it once)."""
    domain = DomainFactory(name="keep.example")
    services.mailbox_create(domain=domain, local_part="a", password_hash="{PLAIN}x", maildir="keep/a/",
                            password="", acting_user=superadmin)
    gone = services.mailbox_create(domain=domain, local_part="b", password="x-long-enough", acting_user=superadmin)
    services.mailbox_delete(mailbox=gone, acting_user=superadmin)
    for local_part, maildir in (("c", "keep//a"), ("d", gone.maildir)):
        with pytest.raises(ValidationError) as exc:
            services.mailbox_create(domain=domain, local_part=local_part, password_hash="{PLAIN}x",
                                    maildir=maildir, password="", acting_user=superadmin)
        assert error_codes(exc.value) == {"maildir_taken"}
    batch = services.addresses_create(items=[
        services.NewMailbox(domain=domain, local_part="e", password_hash="{PLAIN}x", maildir="keep/e/"),
        services.NewMailbox(domain=domain, local_part="f", password_hash="{PLAIN}x", maildir="keep/e/")],
        acting_user=superadmin)
    assert isinstance(batch[0], Mailbox) and error_codes(batch[1]) == {"maildir_taken"}
