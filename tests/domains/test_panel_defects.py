"""The rough edges of issue 16, one test each: language switch before login, confirmation
before deactivating, the full domain, external forwards, plural forms, the alias search by
destination, the /me/ page, the favicon, the DNS page's messages."""
import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEntry
from domains import services
from domains.models import Alias
from tests.factories import TEST_PASSWORD, AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory
from tests.dnscheck.fixtures import dns_server, dns_settings  # noqa: F401 (fixtures)
from tests.roles import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


# --- defect 2: "Français" on the login pages ---------------------------------------------

@pytest.mark.parametrize("login_url", ["/accounts/login/", "/me/login/"])
def test_language_switch_works_before_login(client, login_url):
    page = client.get(login_url)
    assert 'action="/i18n/setlang/"' in page.content.decode()
    response = client.post("/i18n/setlang/", {"language": "fr", "next": login_url})
    assert response.status_code == 302 and response["Location"] == login_url
    french = client.get(login_url)
    assert '<html lang="fr">' in french.content.decode()


# --- defect 4: deactivating asks first, saying how much stops ----------------------------

def test_domain_deactivation_without_confirmation_asks_with_counts(world):
    for n in range(3):
        MailboxFactory(domain=world.domain, local_part=f"m{n}")
    AliasFactory(domain=world.domain, address="team@example.org")
    client = world.client("superadmin")
    url = reverse("domains:domain-set-active", args=[world.domain.pk])
    response = client.post(url, {"active": "0"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="confirm-deactivate"' in body
    assert "4 mailboxes" in body and "1 alias" in body  # bob and m0..m2
    world.domain.refresh_from_db()
    assert world.domain.active and not AuditEntry.objects.filter(action="domain.update").exists()
    # htmx without confirmation: a client redirect to that page, not a page inside the row.
    hx = client.post(url, {"active": "0"}, headers={"HX-Request": "true"})
    assert hx["HX-Redirect"].startswith(url)
    # Confirmed, it happens; activating never asks.
    client.post(url, {"active": "0", "confirmed": "1"})
    world.domain.refresh_from_db()
    assert not world.domain.active
    client.post(url, {"active": "1"})
    world.domain.refresh_from_db()
    assert world.domain.active


def test_list_switches_carry_the_warning_for_htmx(world):
    client = world.client("superadmin")
    domains = client.get(reverse("domains:domain-list")).content.decode()
    assert 'hx-confirm="Deactivating example.org stops all its mail: 1 mailbox and 0 aliases' in domains
    mailboxes = client.get(reverse("domains:mailbox-list")).content.decode()
    assert 'hx-confirm="Deactivating bob@example.org refuses its incoming mail' in mailboxes


@pytest.mark.parametrize("kind", ["mailbox", "alias", "aliasdomain"])
def test_every_mail_switch_asks_before_deactivating(world, kind):
    objects = {"mailbox": lambda: world.mailbox,
               "alias": lambda: AliasFactory(domain=world.domain, address="team@example.org",
                                             destinations=["a@x.example", "b@x.example"]),
               "aliasdomain": lambda: AliasDomainFactory(name="alias.example", target=world.domain)}
    obj = objects[kind]()
    url = reverse(f"domains:{kind}-set-active", args=[obj.pk])
    client = world.client("domain_admin")
    body = client.post(url, {"active": "0"}).content.decode()
    assert "Deactivating" in body
    if kind == "alias":
        assert "now reaches 2 addresses" in body
    obj.refresh_from_db()
    assert obj.active


def test_edit_form_asks_before_deactivating(world):
    client = world.client("domain_admin")
    url = reverse("domains:mailbox-update", args=[world.mailbox.pk])
    response = client.post(url, {"name": "", "quota_bytes": "1G"})  # "Active" unticked
    form = response.context["form"]
    assert form.has_error("confirm_deactivation", "deactivation_unconfirmed")
    assert "refuses its incoming mail" in response.content.decode()
    world.mailbox.refresh_from_db()
    assert world.mailbox.active
    client.post(url, {"name": "", "quota_bytes": "1G", "confirm_deactivation": "on"})
    world.mailbox.refresh_from_db()
    assert not world.mailbox.active


# --- defect 7: a full domain says so before the form -------------------------------------

def test_full_domain_says_so_on_the_button_and_the_page(world):
    world.domain.max_mailboxes = 1
    world.domain.save()
    client = world.client("domain_admin")
    for url in (reverse("domains:domain-detail", args=[world.domain.pk]),
                reverse("domains:domain-mailbox-list", args=[world.domain.pk])):
        body = client.get(url).content.decode()
        assert "New mailbox: 1 of 1 used" in body and 'aria-disabled="true"' in body
        assert "1 of 1 mailbox used." in body
        assert f'href="{reverse("domains:mailbox-create", args=[world.domain.pk])}"' not in body
    form = client.get(reverse("domains:mailbox-create", args=[world.domain.pk])).content.decode()
    assert "Mailbox limit reached: 1 of 1 used" in form
    world.domain.max_mailboxes = 3
    world.domain.save()
    body = client.get(reverse("domains:domain-detail", args=[world.domain.pk])).content.decode()
    assert "1 of 3 mailboxes used." in body and 'id="new-mailbox" href=' in body


# --- defect 8: turning off external forwarding says how many and offers to stop them -----

def _forwarding(world, local_part, destinations):
    mailbox = MailboxFactory(domain=world.domain, local_part=local_part)
    services.mailbox_set_forwarding(mailbox=mailbox, destinations=destinations, keep_copy=True, acting_user=None)
    return mailbox


def test_turning_off_external_forwarding_offers_to_stop_existing_ones(world):
    outside = _forwarding(world, "out", ["me@gmail.example"])
    mixed = _forwarding(world, "mix", ["me@gmail.example", "bob@example.org"])
    _forwarding(world, "inside", ["bob@example.org"])
    client = world.client("domain_admin")
    url = reverse("domains:domain-update", args=[world.domain.pk])
    page = client.get(url).content.decode()
    assert "also stop the 2 forwardings to other servers" in page
    data = {"description": "", "default_quota_bytes": "0", "drop_external_forwarding": "on"}
    client.post(url, data)  # allow_external_forwarding unticked
    world.domain.refresh_from_db()
    assert not world.domain.allow_external_forwarding
    assert Alias.objects.get(mailbox=outside).destinations == ["out@example.org"]
    assert Alias.objects.get(mailbox=mixed).destinations == ["mix@example.org", "bob@example.org"]
    assert AuditEntry.objects.filter(action="forwarding.update").count() == 2


def test_keeping_external_forwards_is_said_after_saving(world):
    _forwarding(world, "out", ["me@gmail.example"])
    client = world.client("domain_admin")
    url = reverse("domains:domain-update", args=[world.domain.pk])
    response = client.post(url, {"description": "", "default_quota_bytes": "0"}, follow=True)
    assert "1 forwarding to other servers still works" in response.content.decode()
    assert Alias.objects.get(address="out@example.org").destinations == ["out@example.org", "me@gmail.example"]


def test_forwarding_without_copy_to_outside_only_is_removed(world):
    mailbox = MailboxFactory(domain=world.domain, local_part="gone")
    services.mailbox_set_forwarding(mailbox=mailbox, destinations=["me@gmail.example"], keep_copy=False,
                                    acting_user=None)
    services.domain_update(domain=world.domain, allow_external_forwarding=False, drop_external_forwarding=True,
                           acting_user=None)
    assert not Alias.objects.filter(mailbox=mailbox).exists()
    assert AuditEntry.objects.filter(action="forwarding.delete", object_repr="gone@example.org").exists()


# --- defect 9: the smaller ones ----------------------------------------------------------

def test_alias_search_matches_part_of_a_destination(world):
    AliasFactory(domain=world.domain, address="team@example.org", destinations=["carla.rossi@x.example"])
    AliasFactory(domain=world.domain, address="other@example.org", destinations=["dan@x.example"])
    body = world.client("domain_admin").get(reverse("domains:alias-list"), {"q": "rossi"}).content.decode()
    assert "team@example.org" in body and "other@example.org" not in body


def test_dashboard_counts_use_plural_forms(world):
    services.mailbox_set_forwarding(mailbox=world.mailbox, destinations=["x@y.example"], keep_copy=True,
                                    acting_user=None)
    client = world.client("superadmin")
    assert "1 forwarding<" in client.get("/").content.decode()
    with translation.override("fr"):
        client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
        body = client.get("/").content.decode()
    assert "1 transfert<" in body and "1 transferts" not in body


def test_list_filters_all_apply_on_change(world):
    # "from:find select" listened to the first select only: the quota page's "Show" needed a
    # Filter click. Every select of the filter bar now applies at once; the search box as you
    # type (not on "change", which would refresh the table under a row being switched).
    client = world.client("superadmin")
    for url in ("/domains/", "/mailboxes/", "/aliases/", "/alias-domains/", "/quota/", "/accounts/admins/"):
        body = client.get(url).content.decode()
        assert 'from:find input[name=q], change from:.filters>select, submit" hx-sync="this:replace"' in body, url
        assert "from:find select" not in body, url


def test_mail_user_page_does_not_list_its_own_address_as_a_destination(world, client):
    services.mailbox_set_forwarding(mailbox=world.mailbox, destinations=["far@y.example"], keep_copy=True,
                                    acting_user=None)
    login = client.post(reverse("mailuser:login"), {"address": "bob@example.org", "password": TEST_PASSWORD})
    assert login.status_code == 302
    body = client.get("/me/").content.decode()
    assert "far@y.example" in body and "a copy stays in this mailbox" in body
    assert "bob@example.org, far@y.example" not in body


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    assert 'rel="icon"' in client.get("/accounts/login/").content.decode()


def test_htmx_never_injects_its_indicator_styles(client):
    assert '"includeIndicatorStyles": false' in client.get("/accounts/login/").content.decode()


def test_alias_admin_and_forwarding_forms_share_the_domain_form_layout(world):
    client = world.client("superadmin")
    alias = AliasFactory(domain=world.domain, address="team@example.org")
    for url in (reverse("domains:alias-create"), reverse("domains:alias-update", args=[alias.pk]),
                reverse("accounts:admin-create"), reverse("domains:mailbox-forwarding", args=[world.mailbox.pk]),
                reverse("domains:domain-update", args=[world.domain.pk])):
        body = client.get(url).content.decode()
        assert 'class="page-header"' in body and ('class="card form"' in body or 'class="form card"' in body), url
        assert '<div class="field' in body, url  # components/field.html, not Django's as_field_group


def test_dkim_success_message_shows_once(world, dns_settings):
    client = world.client("domain_admin")
    response = client.post(reverse("dnscheck:dkim-generate", kwargs={"domain_pk": world.domain.pk}),
                           {"algorithm": "ed25519"}, follow=True)
    body = response.content.decode()
    messages = [m.message for m in response.context["messages"]]
    assert len(messages) == 1 and body.count(messages[0]) == 1
