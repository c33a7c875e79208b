"""Any name that enters the server's routing is a superadmin decision (issue 11, item 2).

Proven through the real Postfix maps: a domain admin can no longer make Postfix answer for
gmail.com, another tenant's names or the server's own; look-alike names (UTS #39) need a
superadmin's confirmation, with the punycode shown beside the Unicode form.
"""
import idna
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from domains import services
from domains.models import AliasDomain
from tests.factories import AdminFactory, AliasDomainFactory, DomainFactory, SuperadminFactory

pytestmark = pytest.mark.django_db

LOOKALIKE = "аlpha.test"  # the first letter is Cyrillic U+0430
LOOKALIKE_ASCII = idna.encode(LOOKALIKE, uts46=True).decode()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tenant():
    domain = services.domain_create(name="tenant.example", acting_user=None)
    other = services.domain_create(name="other-tenant.example", acting_user=None)
    services.mailbox_create(domain=domain, local_part="eve", password="pw-eve-123456", acting_user=None)
    services.alias_create(domain=domain, local_part="", destinations=["eve@tenant.example"], acting_user=None)
    return {"domain": domain, "other": other, "admin": AdminFactory(username="eve-admin", domains=[domain])}


# --- through the real Postfix ----------------------------------------------------------

@pytest.mark.mailstack
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["gmail.com", "mail.other-tenant.example", "localhost.localdomain"])
def test_a_domain_admins_alias_domain_is_not_answered_by_postfix(mail_stack, tenant, name):
    response = _client(tenant["admin"]).post(reverse("domains:aliasdomain-create"),
                                              {"name": name, "target": tenant["domain"].pk, "active": "on"})
    assert response.status_code == 302
    requested = AliasDomain.objects.get(name=name)
    assert (requested.approved, requested.active) == (False, False)
    assert mail_stack.postmap("virtual_alias_domains", name) is None
    assert mail_stack.postmap("alias_domain_catchall_maps", f"@{name}") is None
    # Activating it by hand is refused too, by the view, the service and the database.
    _client(tenant["admin"]).post(reverse("domains:aliasdomain-set-active", args=[requested.pk]), {"active": "1"})
    with pytest.raises(ValidationError):
        services.alias_domain_set_active(alias_domain=requested, active=True, acting_user=tenant["admin"])
    with pytest.raises(IntegrityError), transaction.atomic():
        AliasDomain.objects.filter(pk=requested.pk).update(active=True)
    assert mail_stack.postmap("virtual_alias_domains", name) is None
    assert AuditEntry.objects.filter(action="aliasdomain.request").count() == 1


@pytest.mark.mailstack
@pytest.mark.django_db(transaction=True)
def test_a_superadmins_approval_makes_postfix_answer(mail_stack, tenant):
    requested = services.alias_domain_create(name="tenant.example.net", target=tenant["domain"],
                                             acting_user=tenant["admin"])
    assert mail_stack.postmap("virtual_alias_domains", "tenant.example.net") is None
    superadmin = SuperadminFactory()
    with pytest.raises(PermissionDenied):
        services.alias_domain_approve(alias_domain=requested, acting_user=tenant["admin"])
    response = _client(superadmin).post(reverse("domains:aliasdomain-approve", args=[requested.pk]))
    assert response.status_code == 302
    assert mail_stack.postmap("virtual_alias_domains", "tenant.example.net") == "tenant.example.net"
    assert mail_stack.postmap("alias_domain_catchall_maps", "@tenant.example.net") == "eve@tenant.example"
    assert AuditEntry.objects.filter(action="aliasdomain.approve", actor=superadmin).exists()


# --- the services: the CLI and any API inherit the rules --------------------------------

def test_a_domain_admin_cannot_create_a_domain_or_change_its_routing(tenant):
    admin = tenant["admin"]
    with pytest.raises(PermissionDenied):
        services.domain_create(name="gmail.com", acting_user=admin)
    for change in ({"backup_mx": True}, {"transport": "smtp:[attacker.example]"}, {"active": False},
                   {"max_mailboxes": 0}):
        with pytest.raises(PermissionDenied):
            services.domain_update(domain=tenant["domain"], acting_user=admin, **change)
    with pytest.raises(PermissionDenied):
        services.domain_delete(domain=tenant["domain"], acting_user=admin)
    # What is theirs to change still works.
    services.domain_update(domain=tenant["domain"], acting_user=admin, description="Eve's shop")


def test_a_domain_admin_cannot_point_an_alias_domain_at_another_tenant(tenant):
    with pytest.raises(PermissionDenied):
        services.alias_domain_create(name="x.example", target=tenant["other"], acting_user=tenant["admin"])


def test_a_superadmin_alias_domain_is_approved_at_once(tenant):
    alias_domain = services.alias_domain_create(name="tenant.example.org", target=tenant["domain"],
                                                acting_user=SuperadminFactory())
    assert (alias_domain.approved, alias_domain.active) == (True, True)


def test_approved_alias_domains_can_be_toggled_by_their_domain_admin(tenant):
    alias_domain = AliasDomainFactory(name="t2.example", target=tenant["domain"])
    services.alias_domain_set_active(alias_domain=alias_domain, active=False, acting_user=tenant["admin"])
    services.alias_domain_set_active(alias_domain=alias_domain, active=True, acting_user=tenant["admin"])


# --- look-alike names (UTS #39) --------------------------------------------------------

def test_a_mixed_script_domain_needs_a_superadmins_confirmation():
    services.domain_create(name="alpha.test", acting_user=None)
    with pytest.raises(ValidationError) as caught:
        services.domain_create(name=LOOKALIKE, acting_user=None)
    assert "name_lookalike" in {e.code for e in caught.value.error_dict["name"]}
    text = " ".join(caught.value.messages)
    assert LOOKALIKE_ASCII in text and "alpha.test" in text  # punycode beside the Unicode form
    domain = services.domain_create(name=LOOKALIKE, allow_lookalike=True, acting_user=SuperadminFactory())
    assert domain.name == LOOKALIKE_ASCII


@pytest.mark.parametrize("name", [LOOKALIKE, "аре.test", "gmai1.com"])
def test_a_domain_admin_cannot_request_a_lookalike(tenant, name):
    services.domain_create(name="gmail.com", acting_user=None)
    with pytest.raises(ValidationError) as caught:
        services.alias_domain_create(name=name, target=tenant["domain"], allow_lookalike=True,
                                     acting_user=tenant["admin"])
    assert "name_lookalike" in {e.code for e in caught.value.error_dict["name"]}
    assert not AliasDomain.objects.exists()


@pytest.mark.parametrize("name", ["bücher.example", "пример.рф", "日本語.jp", "münchen-straße.de"])
def test_ordinary_idns_are_not_lookalikes(name):
    services.domain_create(name=name, acting_user=None)


def test_the_approval_page_shows_punycode_and_asks_to_confirm_a_lookalike(tenant):
    services.domain_create(name="alpha.test", acting_user=None)
    requested = AliasDomain.objects.create(name=LOOKALIKE_ASCII, target=tenant["domain"], active=False)
    client = _client(SuperadminFactory())
    page = client.get(reverse("domains:aliasdomain-approve", args=[requested.pk])).content.decode()
    assert LOOKALIKE in page and LOOKALIKE_ASCII in page and 'id="approve-findings"' in page
    client.post(reverse("domains:aliasdomain-approve", args=[requested.pk]))
    requested.refresh_from_db()
    assert not requested.approved
    client.post(reverse("domains:aliasdomain-approve", args=[requested.pk]), {"allow_lookalike": "on"})
    requested.refresh_from_db()
    assert requested.approved and requested.active
    listing = client.get(reverse("domains:aliasdomain-list")).content.decode()
    assert f"{LOOKALIKE} ({LOOKALIKE_ASCII})" in listing


def test_a_domain_admin_cannot_open_the_approval_page(tenant):
    requested = services.alias_domain_create(name="t3.example", target=tenant["domain"], acting_user=tenant["admin"])
    assert _client(tenant["admin"]).get(reverse("domains:aliasdomain-approve", args=[requested.pk])).status_code == 403
    assert _client(tenant["admin"]).post(reverse("domains:aliasdomain-approve", args=[requested.pk])).status_code == 403
    requested.refresh_from_db()
    assert not requested.approved


def test_the_domain_admin_form_has_no_active_or_confirm_box(tenant):
    page = _client(tenant["admin"]).get(reverse("domains:aliasdomain-create")).content.decode()
    assert 'name="allow_lookalike"' not in page and 'name="active"' not in page


def test_cli_refuses_a_lookalike_without_the_flag_and_approves_requests(tenant):
    services.domain_create(name="alpha.test", acting_user=None)
    with pytest.raises(CommandError, match="mistaken"):
        call_command("domain", "add", LOOKALIKE)
    call_command("domain", "add", LOOKALIKE, "--allow-lookalike")
    services.alias_domain_create(name="t4.example", target=tenant["domain"], acting_user=tenant["admin"])
    call_command("aliasdomain", "approve", "t4.example")
    assert AliasDomain.objects.get(name="t4.example").active


def test_a_pending_request_does_not_silently_squat_a_name(tenant):
    services.alias_domain_create(name="bigcorp.example", target=tenant["domain"], acting_user=tenant["admin"])
    with pytest.raises(ValidationError) as caught:
        services.domain_create(name="bigcorp.example", acting_user=None)
    assert caught.value.error_dict["name"][0].code == "name_is_requested_alias_domain"
    assert "tenant.example" in caught.value.messages[0]


def test_superadmins_find_the_requests_awaiting_approval(tenant):
    services.alias_domain_create(name="wanted.example", target=tenant["domain"], acting_user=tenant["admin"])
    AliasDomainFactory(name="approved.example", target=tenant["domain"])
    client = _client(SuperadminFactory())
    page = client.get(reverse("domains:aliasdomain-list")).content.decode()
    assert 'id="aliasdomain-awaiting"' in page and "1 alias domain awaits" in page
    pending = client.get(reverse("domains:aliasdomain-list"), {"pending": "1"}).content.decode()
    assert "wanted.example" in pending and "approved.example" not in pending
