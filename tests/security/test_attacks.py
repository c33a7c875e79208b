"""Issue 11's fixes tried as an attacker would, through the real views: a domain admin, a mail
user and an anonymous client each trying to make the server answer for a name."""
import pytest
from django.test import Client
from django.urls import reverse

from domains import services
from domains.models import AliasDomain, Domain
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    domain = services.domain_create(name="tenant.example", acting_user=None)
    other = services.domain_create(name="other-tenant.example", acting_user=None)
    admin = AdminFactory(domains=[domain])
    client = Client()
    client.force_login(admin)
    return {"domain": domain, "other": other, "admin": admin, "client": client}


@pytest.mark.parametrize("htmx", [False, True])
def test_smuggled_approval_fields_are_ignored(tenant, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    tenant["client"].post(reverse("domains:aliasdomain-create"),
                          {"name": "GMAIL.com.", "target": tenant["domain"].pk, "active": "on", "approved": "on",
                           "allow_lookalike": "on"}, headers=headers)
    requested = AliasDomain.objects.get()
    assert requested.name == "gmail.com" and not requested.approved and not requested.active


def test_fullwidth_and_case_variants_normalize_to_the_same_pending_request(tenant):
    tenant["client"].post(reverse("domains:aliasdomain-create"), {"name": "ｇｍａｉｌ.ＣＯＭ", "target": tenant["domain"].pk})
    assert list(AliasDomain.objects.values_list("name", "approved")) == [("gmail.com", False)]


def test_another_tenants_domain_cannot_be_the_target(tenant):
    response = tenant["client"].post(reverse("domains:aliasdomain-create"),
                                     {"name": "x.example", "target": tenant["other"].pk})
    assert response.status_code == 200 and not AliasDomain.objects.exists()


def test_another_tenants_domain_name_cannot_be_claimed(tenant):
    response = tenant["client"].post(reverse("domains:aliasdomain-create"),
                                     {"name": "other-tenant.example", "target": tenant["domain"].pk})
    assert response.status_code == 200 and not AliasDomain.objects.exists()


def test_routing_fields_posted_to_the_domain_form_change_nothing(tenant):
    tenant["client"].post(reverse("domains:domain-update", args=[tenant["domain"].pk]),
                          {"description": "mine", "default_quota_bytes": "0", "backup_mx": "on",
                           "transport": "smtp:[attacker.example]", "active": "", "max_mailboxes": "0"})
    domain = Domain.objects.get(pk=tenant["domain"].pk)
    assert (domain.description, domain.backup_mx, domain.transport, domain.active) == ("mine", False, "", True)


def test_a_domain_admin_cannot_create_a_domain_through_any_view(tenant):
    response = tenant["client"].post(reverse("domains:domain-create"), {"name": "gmail.com"})
    assert response.status_code == 403 and not Domain.objects.filter(name="gmail.com").exists()


@pytest.mark.parametrize("role", ["anonymous", "mail_user"])
def test_anonymous_and_mail_users_cannot_request_or_approve(tenant, role):
    requested = services.alias_domain_create(name="t.example.net", target=tenant["domain"], acting_user=tenant["admin"])
    client = Client()
    if role == "mail_user":
        mailbox = services.mailbox_create(domain=tenant["domain"], local_part="u", password="pw-123456789",
                                          acting_user=None)
        session = client.session
        session["mailbox_id"] = mailbox.pk
        session.save()
    client.post(reverse("domains:aliasdomain-create"), {"name": "gmail.com", "target": tenant["domain"].pk})
    client.post(reverse("domains:aliasdomain-approve", args=[requested.pk]))
    client.post(reverse("domains:aliasdomain-set-active", args=[requested.pk]), {"active": "1"})
    assert list(AliasDomain.objects.values_list("name", "approved", "active")) == [("t.example.net", False, False)]
