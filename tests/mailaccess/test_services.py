"""mailaccess services: rules, scope, audit, and what the tables hold."""
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.mailusers import MailUserActor
from audit.models import AuditEntry
from domains import services as domain_services
from mailaccess import selectors, services
from mailaccess.models import EMPTY_SHA256, AppPassword, SenderGrant
from tests.factories import AdminFactory, AliasDomainFactory, DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ours = DomainFactory(name="example.org")
    theirs = DomainFactory(name="other.example")
    return {
        "ours": ours, "theirs": theirs,
        "john": MailboxFactory(domain=ours, local_part="john"),
        "jane": MailboxFactory(domain=ours, local_part="jane"),
        "eve": MailboxFactory(domain=theirs, local_part="eve"),
        "admin": AdminFactory(username="alice", domains=[ours]),
        "root": SuperadminFactory(username="root"),
    }


def codes(exc: ValidationError, field: str) -> list[str]:
    return [e.code for e in exc.error_dict[field]]


# --- app passwords -------------------------------------------------------------------------

def test_created_secret_is_stored_only_as_its_sha256(world):
    created = services.app_password_create(mailbox=world["john"], name="phone", protocols=["imap", "imap"],
                                           acting_user=world["admin"])
    row = AppPassword.objects.get()
    assert row.secret_sha256 == hashlib.sha256(created.secret.encode()).hexdigest()
    assert created.secret not in str(AppPassword.objects.values().get())
    assert row.protocols == ["imap"] and row.created_by == "alice" and row.active
    assert len(created.secret) == 19 and created.secret.count("-") == 3
    entry = AuditEntry.objects.get(action="apppassword.create")
    assert entry.object_repr == "john@example.org" and created.secret not in str(entry.after)
    assert row.secret_sha256 not in str(entry.after)


def test_each_secret_is_new():
    assert len({services.new_secret() for _ in range(200)}) == 200


def test_names_protocols_and_limits(world):
    john = world["john"]
    services.app_password_create(mailbox=john, name="phone", acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.app_password_create(mailbox=john, name="phone", acting_user=None)
    assert "phone" and exc.value.messages
    with pytest.raises(ValidationError) as exc:
        services.app_password_create(mailbox=john, name="x", protocols=["smtp", "ftp"], acting_user=None)
    assert codes(exc.value, "protocols") == ["protocol_unknown"]
    with pytest.raises(ValidationError):
        services.app_password_create(mailbox=john, name="bad\x1bname", acting_user=None)
    with pytest.raises(ValidationError):
        services.app_password_create(mailbox=john, name="  ", acting_user=None)
    for i in range(services.MAX_ACTIVE_APP_PASSWORDS - 1):
        services.app_password_create(mailbox=john, name=f"device {i}", acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.app_password_create(mailbox=john, name="one more", acting_user=None)
    assert codes(exc.value, "name") == ["app_password_limit"]
    # A revoked one frees its place and its name.
    services.app_password_revoke(app_password=AppPassword.objects.get(name="phone"), acting_user=None)
    services.app_password_create(mailbox=john, name="phone", acting_user=None)
    assert AppPassword.objects.filter(mailbox=john, name="phone").count() == 2


def test_the_table_refuses_what_dovecot_must_never_match(world):
    for bad in (EMPTY_SHA256, "A" * 64, "zz"):
        with pytest.raises(IntegrityError), transaction.atomic():
            AppPassword.objects.create(mailbox=world["john"], name=f"n{bad[:3]}", secret_sha256=bad)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppPassword.objects.create(mailbox=world["john"], name="p", secret_sha256="a" * 64, protocols=["ftp"])


def test_revoke_is_audited_and_idempotent(world):
    created = services.app_password_create(mailbox=world["john"], name="phone", acting_user=None)
    services.app_password_revoke(app_password=created.app_password, acting_user=world["admin"])
    first = AppPassword.objects.get().revoked
    services.app_password_revoke(app_password=created.app_password, acting_user=world["admin"])
    assert AppPassword.objects.get().revoked == first
    assert AuditEntry.objects.filter(action="apppassword.revoke").count() == 1


def test_scope_of_app_passwords(world):
    with pytest.raises(PermissionDenied):
        services.app_password_create(mailbox=world["eve"], name="x", acting_user=world["admin"])
    with pytest.raises(PermissionDenied):   # a mail user acts on their own mailbox only
        services.app_password_create(mailbox=world["jane"], name="x", acting_user=MailUserActor("john@example.org"))
    mine = services.app_password_create(mailbox=world["john"], name="x", acting_user=MailUserActor("john@example.org"))
    with pytest.raises(PermissionDenied):
        services.app_password_revoke(app_password=mine.app_password, acting_user=MailUserActor("jane@example.org"))
    with pytest.raises(PermissionDenied):
        services.app_password_revoke(app_password=mine.app_password,
                                     acting_user=AdminFactory(username="mallory", domains=[world["theirs"]]))
    assert AppPassword.objects.get().active
    services.app_password_create(mailbox=world["eve"], name="x", acting_user=world["root"])


# --- send-as grants ------------------------------------------------------------------------

def test_domain_admin_grants_only_addresses_of_their_domains(world):
    admin, john = world["admin"], world["john"]
    AliasDomainFactory(name="example.net", target=world["ours"])
    services.sender_grant_create(mailbox=john, address="Sales@Example.org", acting_user=admin)
    services.sender_grant_create(mailbox=john, address="sales@example.net", acting_user=admin)
    for outside in ("eve@other.example", "someone@gmail.com", "x@sub.example.org"):
        with pytest.raises(ValidationError) as exc:
            services.sender_grant_create(mailbox=john, address=outside, acting_user=admin)
        assert codes(exc.value, "address") == ["sender_outside_scope"]
    # Nor on a mailbox of another domain, whatever the address.
    with pytest.raises(PermissionDenied):
        services.sender_grant_create(mailbox=world["eve"], address="sales@example.org", acting_user=admin)
    assert sorted(SenderGrant.objects.values_list("address", flat=True)) == ["sales@example.net", "sales@example.org"]


def test_a_requested_alias_domain_is_not_the_admins_until_approved(world):
    """A domain admin requests gmail.com as an alias domain (unapproved: it never routes); it must
    not let them grant someone@gmail.com meanwhile."""
    AliasDomainFactory(name="gmail.com", target=world["ours"], approved=False, active=False)
    with pytest.raises(ValidationError) as exc:
        services.sender_grant_create(mailbox=world["john"], address="someone@gmail.com", acting_user=world["admin"])
    assert codes(exc.value, "address") == ["sender_outside_scope"]


def test_superadmin_and_cli_may_grant_any_address(world):
    services.sender_grant_create(mailbox=world["john"], address="someone@gmail.com", acting_user=world["root"])
    services.sender_grant_create(mailbox=world["john"], address="eve@other.example", acting_user=None)
    assert AuditEntry.objects.filter(action="sendergrant.create").count() == 2


def test_grant_input_errors(world):
    john = world["john"]
    for bad, code in (("not an address", "address_invalid"), ("@example.org", "local_part_empty"),
                      ("john@example.org", "sender_is_self")):
        with pytest.raises(ValidationError) as exc:
            services.sender_grant_create(mailbox=john, address=bad, acting_user=None)
        assert codes(exc.value, "address") == [code], bad
    services.sender_grant_create(mailbox=john, address="sales@example.org", acting_user=None)
    with pytest.raises(ValidationError) as exc:
        services.sender_grant_create(mailbox=john, address="SALES@example.org", acting_user=None)
    assert exc.value.messages


def test_mail_users_cannot_grant_themselves_addresses(world):
    with pytest.raises(PermissionDenied):
        services.sender_grant_create(mailbox=world["john"], address="jane@example.org",
                                     acting_user=MailUserActor("john@example.org"))


def test_withdrawing(world):
    grant = services.sender_grant_create(mailbox=world["john"], address="eve@other.example", acting_user=None)
    with pytest.raises(PermissionDenied):
        services.sender_grant_delete(grant=grant, acting_user=AdminFactory(username="mallory",
                                                                            domains=[world["theirs"]]))
    # The mailbox's admin may withdraw a grant a superadmin made: that narrows, never widens.
    services.sender_grant_delete(grant=grant, acting_user=world["admin"])
    assert not SenderGrant.objects.exists()
    assert AuditEntry.objects.get(action="sendergrant.delete").before == {"address": "eve@other.example"}


def test_send_as_addresses_with_reasons(world):
    john = world["john"]
    AliasDomainFactory(name="example.net", target=world["ours"], approved=True, active=True)
    domain_services.alias_create(domain=world["ours"], local_part="team", destinations=["john@example.org"],
                                 acting_user=None)
    services.sender_grant_create(mailbox=john, address="boss@other.example", acting_user=None)
    found = {(s.address, s.reason, s.via) for s in selectors.send_as_addresses(john)}
    assert found == {("john@example.org", "mailbox", ""), ("team@example.org", "alias", ""),
                     ("boss@other.example", "grant", ""),
                     ("john@example.net", "alias_domain", "john@example.org"),
                     ("team@example.net", "alias_domain", "team@example.org")}
    domain_services.mailbox_set_active(mailbox=john, active=False, acting_user=None)
    john.refresh_from_db()
    assert selectors.send_as_addresses(john) == []


def test_grants_follow_the_addresses_they_name(world):
    """Deleted addresses can be reused: a grant naming one must not pass to the next owner."""
    ours, john, jane = world["ours"], world["john"], world["jane"]
    AliasDomainFactory(name="example.net", target=ours)
    domain_services.alias_create(domain=ours, local_part="sales", destinations=["jane@example.org"],
                                 acting_user=None)
    for address in ("jane@example.org", "jane@example.net", "sales@example.org", "eve@other.example",
                    "noreply@example.org"):
        services.sender_grant_create(mailbox=john, address=address, acting_user=None)

    domain_services.mailbox_rename(mailbox=jane, local_part="jane.doe", acting_user=None)
    assert set(SenderGrant.objects.values_list("address", flat=True)) == {
        "jane.doe@example.org", "jane.doe@example.net", "sales@example.org", "eve@other.example",
        "noreply@example.org"}
    jane.refresh_from_db()
    domain_services.mailbox_delete(mailbox=jane, acting_user=None)
    # sales@ named only jane: the delete removed it too, and the grant naming it.
    assert set(SenderGrant.objects.values_list("address", flat=True)) == {"eve@other.example",
                                                                          "noreply@example.org"}
    entry = AuditEntry.objects.filter(action="mailbox.delete").get()
    assert sorted(entry.before["sender_grants"]) == ["john@example.org → jane.doe@example.net",
                                                     "john@example.org → jane.doe@example.org",
                                                     "john@example.org → sales@example.org"]
    domain_services.alias_create(domain=ours, local_part="info", destinations=["john@example.org"],
                                 acting_user=None)
    services.sender_grant_create(mailbox=world["eve"], address="info@example.org", acting_user=None)
    domain_services.alias_delete(alias=ours.aliases.get(address="info@example.org"), acting_user=None)
    assert not SenderGrant.objects.filter(address="info@example.org").exists()
    domain_services.domain_delete(domain=world["theirs"], acting_user=None)
    assert list(SenderGrant.objects.values_list("address", flat=True)) == ["noreply@example.org"]


def test_grants_follow_a_renamed_alias(world):
    """Review 15a: renaming an alias left the grants naming its old address behind, so whoever
    next got that address (a new mailbox or alias) found another mailbox allowed to send as it."""
    ours, john = world["ours"], world["john"]
    AliasDomainFactory(name="example.net", target=ours)
    sales = domain_services.alias_create(domain=ours, local_part="sales", destinations=["jane@example.org"],
                                         acting_user=None)
    for address in ("sales@example.org", "sales@example.net"):
        services.sender_grant_create(mailbox=john, address=address, acting_user=None)
    domain_services.alias_rename(alias=sales, local_part="team", acting_user=None)
    assert set(john.sender_grants.values_list("address", flat=True)) == {"team@example.org", "team@example.net"}
    # The old name, given to someone else, carries no grant.
    domain_services.mailbox_create(domain=ours, local_part="sales", password="a new mailbox pw", acting_user=None)
    assert not SenderGrant.objects.filter(address__startswith="sales@").exists()
    assert AuditEntry.objects.filter(action="sendergrant.update").count() == 2


def test_withdrawn_approval_withdraws_the_grants_it_allowed(world):
    """Review 15a: a superadmin switching an alias domain off withdraws its approval, but the
    grants its domain admin made while it was approved kept letting their mailbox send as any
    granted name@alias-domain (sender_login_maps matches the grant's address as it is)."""
    ours, john, admin = world["ours"], world["john"], world["admin"]
    net = AliasDomainFactory(name="example.net", target=ours, approved=True, active=True)
    services.sender_grant_create(mailbox=john, address="boss@example.net", acting_user=admin)
    services.sender_grant_create(mailbox=john, address="jane@example.org", acting_user=admin)
    # The domain admin's own "off" keeps the approval, and the grants.
    domain_services.alias_domain_set_active(alias_domain=net, active=False, acting_user=admin)
    assert john.sender_grants.count() == 2
    domain_services.alias_domain_set_active(alias_domain=net, active=True, acting_user=admin)
    domain_services.alias_domain_set_active(alias_domain=net, active=False, acting_user=world["root"])
    assert list(john.sender_grants.values_list("address", flat=True)) == ["jane@example.org"]
    assert ("boss@example.net", "grant", "") not in {(s.address, s.reason, s.via)
                                                    for s in selectors.send_as_addresses(john)}
    entry = AuditEntry.objects.filter(action="aliasdomain.update").latest("pk")
    assert entry.before["sender_grants"] == ["john@example.org → boss@example.net"]


@pytest.mark.django_db(transaction=True)
def test_a_grant_racing_the_withdrawal_of_its_alias_domain_is_refused():
    """Review 15a: a domain admin's grant for name@alias-domain, made while a superadmin was
    switching the alias domain off, read the old approval and survived the withdrawal."""
    import threading

    from django.db import connection

    ours = DomainFactory(name="example.org")
    john = MailboxFactory(domain=ours, local_part="john")
    admin = AdminFactory(username="alice", domains=[ours])
    net = AliasDomainFactory(name="example.net", target=ours, approved=True, active=True)
    outcome = []

    def grant():
        try:
            services.sender_grant_create(mailbox=john, address="boss@example.net", acting_user=admin)
            outcome.append("granted")
        except ValidationError as exc:
            outcome.append(codes(exc, "address"))
        finally:
            connection.close()

    with transaction.atomic():
        domain_services.alias_domain_set_active(alias_domain=net, active=False, acting_user=SuperadminFactory())
        racer = threading.Thread(target=grant)
        racer.start()
        racer.join(1.0)
        assert racer.is_alive(), "the grant must wait for the withdrawal to commit"
    racer.join(10)
    assert outcome == [["sender_outside_scope"]]
    assert not SenderGrant.objects.exists()
