"""Dashboard, domains and mailboxes pages: the role matrix, htmx partials, forms, query counts."""
import re

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from domains import services
from domains.models import Alias, Domain, Mailbox
from domains.passwords import verify_argon2id
from tests.factories import DomainFactory, MailboxFactory
from tests.roles import NOT_LOGGED_IN, ROLES, assert_no_store, assert_not_let_in, check_role, make_world

pytestmark = pytest.mark.django_db

SECRET = "secret-person@example.org"


@pytest.fixture
def world():
    w = make_world()
    w.mailbox.name = "Secret Person"
    w.mailbox.save()
    return w


# (name, method, url(world), data, roles allowed). All concern world.domain: the other domain's
# admin gets a 404 and never its data.
SCOPED = [
    ("domain-detail", "get", lambda w: reverse("domains:domain-detail", args=[w.domain.pk]), None, {"superadmin", "domain_admin"}),
    ("domain-update-get", "get", lambda w: reverse("domains:domain-update", args=[w.domain.pk]), None, {"superadmin", "domain_admin"}),
    ("domain-update-post", "post", lambda w: reverse("domains:domain-update", args=[w.domain.pk]),
     {"description": "changed", "default_quota_bytes": "0", "max_mailboxes": "0", "max_aliases": "0",
      "quota_bytes": "0", "max_quota_bytes": "0", "active": "on"}, {"superadmin", "domain_admin"}),
    ("domain-mailbox-list", "get", lambda w: reverse("domains:domain-mailbox-list", args=[w.domain.pk]), None, {"superadmin", "domain_admin"}),
    ("domain-mailbox-search", "get", lambda w: reverse("domains:domain-mailbox-list", args=[w.domain.pk]) + "?q=bob", None, {"superadmin", "domain_admin"}),
    ("mailbox-create-get", "get", lambda w: reverse("domains:mailbox-create", args=[w.domain.pk]), None, {"superadmin", "domain_admin"}),
    ("mailbox-create-post", "post", lambda w: reverse("domains:mailbox-create", args=[w.domain.pk]),
     {"local_part": "new", "generate_password": "on", "active": "on"}, {"superadmin", "domain_admin"}),
    ("mailbox-check", "get", lambda w: reverse("domains:mailbox-address-check", args=[w.domain.pk]) + "?local_part=bob", None, {"superadmin", "domain_admin"}),
    ("mailbox-update-get", "get", lambda w: reverse("domains:mailbox-update", args=[w.mailbox.pk]), None, {"superadmin", "domain_admin"}),
    ("mailbox-update-post", "post", lambda w: reverse("domains:mailbox-update", args=[w.mailbox.pk]),
     {"name": "Renamed", "quota_bytes": "1G", "active": "on"}, {"superadmin", "domain_admin"}),
    ("mailbox-password-post", "post", lambda w: reverse("domains:mailbox-password", args=[w.mailbox.pk]),
     {"password": "a long new passphrase", "password_confirm": "a long new passphrase"}, {"superadmin", "domain_admin"}),
    ("mailbox-set-active", "post", lambda w: reverse("domains:mailbox-set-active", args=[w.mailbox.pk]), {"active": "0", "confirmed": "1"}, {"superadmin", "domain_admin"}),
    ("mailbox-delete-get", "get", lambda w: reverse("domains:mailbox-delete", args=[w.mailbox.pk]), None, {"superadmin", "domain_admin"}),
    ("mailbox-delete-post", "post", lambda w: reverse("domains:mailbox-delete", args=[w.mailbox.pk]), {}, {"superadmin", "domain_admin"}),
    ("mailbox-detail", "get", lambda w: reverse("domains:mailbox-detail", args=[w.mailbox.pk]), None, {"superadmin", "domain_admin"}),
    ("mailbox-rename-get", "get", lambda w: reverse("domains:mailbox-rename", args=[w.mailbox.pk]), None, {"superadmin", "domain_admin"}),
    ("mailbox-rename-post", "post", lambda w: reverse("domains:mailbox-rename", args=[w.mailbox.pk]), {"local_part": "robert"}, {"superadmin", "domain_admin"}),
    ("mailbox-deactivate-confirm", "get", lambda w: reverse("domains:mailbox-set-active", args=[w.mailbox.pk]), None, {"superadmin", "domain_admin"}),
    ("domain-deactivate-confirm", "get", lambda w: reverse("domains:domain-set-active", args=[w.domain.pk]), None, {"superadmin"}),
    ("domain-set-active", "post", lambda w: reverse("domains:domain-set-active", args=[w.domain.pk]), {"active": "0", "confirmed": "1"}, {"superadmin"}),
    ("domain-delete-get", "get", lambda w: reverse("domains:domain-delete", args=[w.domain.pk]), None, {"superadmin"}),
    ("domain-delete-post", "post", lambda w: reverse("domains:domain-delete", args=[w.domain.pk]), {}, {"superadmin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,method,url,data,allowed", SCOPED, ids=[v[0] for v in SCOPED])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_scoped_views_role_matrix(world, role, name, method, url, data, allowed, htmx):
    client = world.client(role)
    headers = {"HX-Request": "true"} if htmx else {}
    before = AuditEntry.objects.count()
    response = getattr(client, method)(url(world), data, headers=headers)
    if role == "domain_admin" and role not in allowed:
        assert_no_store(role, response)
        assert response.status_code == 403  # their own domain, but a superadmin-only action
        assert AuditEntry.objects.count() == before
        return
    acted = check_role(world, role, response, allowed=allowed, secrets=("bob@example.org", "Secret Person"))
    if not acted:
        assert AuditEntry.objects.count() == before, "a refused request must not write"


GLOBAL = ["domains:dashboard", "domains:domain-list", "domains:mailbox-list"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", GLOBAL)
def test_global_pages_are_scoped(world, role, view):
    client = world.client(role)
    response = client.get(reverse(view), {"q": "example"} if view != "domains:dashboard" else {})
    assert_no_store(role, response)
    if role in NOT_LOGGED_IN:
        assert_not_let_in(role, response)
        return
    assert response.status_code == 200
    body = response.content.decode()
    if role == "other_admin":
        assert "bob@example.org" not in body and ">example.org<" not in body and "Secret Person" not in body
    if role == "domain_admin" and view != "domains:dashboard":
        assert "other.example" not in body


def test_domain_create_only_for_superadmins(world):
    for role in ("domain_admin", "other_admin"):
        assert world.client(role).get(reverse("domains:domain-create")).status_code == 403
    client = world.client("superadmin")
    response = client.post(reverse("domains:domain-create"), {
        "name": "Bücher.Example", "description": "Books", "max_mailboxes": "2", "max_aliases": "0",
        "quota_bytes": "10G", "max_quota_bytes": "2G", "default_quota_bytes": "1G", "active": "on",
        "allow_external_forwarding": "on", "role_addresses": ["postmaster", "abuse"], "role_target": "boss@example.org"})
    assert response.status_code == 302
    domain = Domain.objects.get(name="xn--bcher-kva.example")
    assert domain.quota_bytes == 10 * 1024**3 and domain.default_quota_bytes == 1024**3
    assert set(Alias.objects.filter(domain=domain).values_list("address", flat=True)) == {
        "postmaster@xn--bcher-kva.example", "abuse@xn--bcher-kva.example"}


def test_domain_create_errors_are_at_the_fields(world):
    client = world.client("superadmin")
    response = client.post(reverse("domains:domain-create"), {
        "name": "example.org", "max_mailboxes": "0", "max_aliases": "0", "quota_bytes": "lots",
        "max_quota_bytes": "0", "default_quota_bytes": "0", "role_addresses": ["postmaster"], "role_target": ""})
    assert response.status_code == 200
    form = response.context["form"]
    assert "quota_bytes" in form.errors
    response = client.post(reverse("domains:domain-create"), {
        "name": "example.org", "max_mailboxes": "0", "max_aliases": "0", "quota_bytes": "0",
        "max_quota_bytes": "0", "default_quota_bytes": "0"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.content
    assert "already exists" in response.content.decode()


def test_domain_admin_edits_only_allowed_fields(world):
    client = world.client("domain_admin")
    page = client.get(reverse("domains:domain-update", args=[world.domain.pk])).content.decode()
    assert 'name="description"' in page and 'name="max_mailboxes"' not in page
    client.post(reverse("domains:domain-update", args=[world.domain.pk]),
                {"description": "mine", "default_quota_bytes": "0", "max_mailboxes": "1"})
    world.domain.refresh_from_db()
    assert world.domain.description == "mine" and world.domain.max_mailboxes == 0


def test_mailbox_create_with_typed_password_and_limits(world):
    client = world.client("domain_admin")
    url = reverse("domains:mailbox-create", args=[world.domain.pk])
    mismatch = client.post(url, {"local_part": "eve", "password": "a long new passphrase", "password_confirm": "other"})
    assert "password_confirm" in mismatch.context["form"].errors
    weak = client.post(url, {"local_part": "eve", "password": "short", "password_confirm": "short"})
    assert "password" in weak.context["form"].errors
    ok = client.post(url, {"local_part": "Eve", "name": "Eve", "password": "a long new passphrase",
                           "password_confirm": "a long new passphrase", "quota_bytes": "", "active": "on"})
    assert ok.status_code == 302
    eve = Mailbox.objects.get(address="eve@example.org")
    assert verify_argon2id(eve.password, "a long new passphrase")
    Domain.objects.filter(pk=world.domain.pk).update(max_mailboxes=2)
    full = client.post(url, {"local_part": "frank", "generate_password": "on"})
    assert full.status_code == 200 and "Mailbox limit reached" in full.content.decode()
    dup = client.post(url, {"local_part": "bob", "generate_password": "on"})
    assert "already a mailbox" in dup.content.decode() or "Mailbox limit" in dup.content.decode()


def test_generated_password_is_shown_once_and_never_audited(world):
    client = world.client("superadmin")
    response = client.post(reverse("domains:mailbox-create", args=[world.domain.pk]),
                           {"local_part": "gen", "generate_password": "on", "active": "on"})
    password = re.search(r'id="generated-password">([^<]+)<', response.content.decode()).group(1)
    assert verify_argon2id(Mailbox.objects.get(address="gen@example.org").password, password)
    assert password not in str(list(AuditEntry.objects.values_list("before", "after")))


def test_address_check_and_toggle_partials(world):
    client = world.client("domain_admin")
    taken = client.get(reverse("domains:mailbox-address-check", args=[world.domain.pk]), {"local_part": "BOB"},
                       headers={"HX-Request": "true"}).content.decode()
    assert "already a mailbox" in taken
    free = client.get(reverse("domains:mailbox-address-check", args=[world.domain.pk]), {"local_part": "zed"}).content.decode()
    assert "is free" in free
    bad = client.get(reverse("domains:mailbox-address-check", args=[world.domain.pk]), {"local_part": "a b"}).content.decode()
    assert "not a valid address" in bad
    row = client.post(reverse("domains:mailbox-set-active", args=[world.mailbox.pk]), {"active": "0", "confirmed": "1"},
                      headers={"HX-Request": "true"})
    assert row.status_code == 200 and row.content.decode().lstrip().startswith("<tr")
    world.mailbox.refresh_from_db()
    assert not world.mailbox.active


def test_search_partial_and_query_counts(world, django_assert_max_num_queries):
    for i in range(30):
        MailboxFactory(domain=world.domain, local_part=f"user{i}")
    client = world.client("superadmin")
    with django_assert_max_num_queries(8):
        page = client.get(reverse("domains:mailbox-list"), {"q": "user1"}, headers={"HX-Request": "true",
                                                                                   "HX-Target": "mailbox-table"})
    body = page.content.decode()
    assert "<html" not in body and "user1@example.org" in body and "user2@example.org" not in body
    with django_assert_max_num_queries(8):
        assert client.get(reverse("domains:domain-list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("domains:dashboard")).status_code == 200


def test_own_password_change(world):
    from tests.factories import TEST_PASSWORD

    client = world.client("domain_admin")
    bad = client.post(reverse("accounts:password"), {"old_password": "wrong", "new_password1": "x", "new_password2": "x"})
    assert bad.status_code == 200 and bad.context["form"].errors
    ok = client.post(reverse("accounts:password"), {"old_password": TEST_PASSWORD, "new_password1": "a brand new passphrase",
                                                    "new_password2": "a brand new passphrase"})
    assert ok.status_code == 302
    world.domain_admin.refresh_from_db()
    assert world.domain_admin.check_password("a brand new passphrase")
    assert AuditEntry.objects.filter(action="admin.password", actor=world.domain_admin).exists()


def test_login_throttled_after_failures(client, world):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    locked = client.post(reverse("accounts:login"), {"username": "alice", "password": "correct horse battery staple"})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()


def test_domain_delete_confirmation_lists_what_goes(world):
    services.alias_create(domain=world.domain, local_part="info", destinations=["bob@example.org"], acting_user=None)
    page = world.client("superadmin").get(reverse("domains:domain-delete", args=[world.domain.pk])).content.decode()
    assert "1 mailbox" in page and "1 alias" in page
    world.client("superadmin").post(reverse("domains:domain-delete", args=[world.domain.pk]))
    assert not Domain.objects.filter(pk=world.domain.pk).exists()


def test_an_empty_dashboard_shows_how_to_get_started(client, superadmin):
    client.force_login(superadmin)
    page = client.get("/").content.decode()
    assert "Getting started" in page and 'href="/domains/new/"' in page and "manage.py mailconfig" in page


def test_a_domain_admin_without_domains_is_told_to_ask_for_some(client):
    from tests.factories import AdminFactory

    client.force_login(AdminFactory())
    page = client.get("/").content.decode()
    assert "ask a superadmin" in page and "/domains/new/" not in page


def test_the_getting_started_card_goes_as_soon_as_there_is_a_domain(client, superadmin):
    client.force_login(superadmin)
    assert "Getting started" in client.get("/").content.decode()  # the totals are now cached
    DomainFactory()
    assert "Getting started" not in client.get("/").content.decode()


def test_row_labels_follow_the_language_on_pages_and_swapped_rows(world):
    """The rows' fixed words are translated once per language (templatetags/panel.py
    row_labels), in the page and in a row swapped in alone by htmx."""
    client = world.client("superadmin")
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    body = client.get(reverse("domains:domain-mailbox-list", args=[world.domain.pk]), **french).content.decode()
    assert 'data-label="Utilisé"' in body and ">Supprimer</a>" in body and "jamais" in body
    english = client.get(reverse("domains:domain-mailbox-list", args=[world.domain.pk])).content.decode()
    assert 'data-label="Used"' in english and ">Delete</a>" in english and "never" in english
    row = client.post(reverse("domains:mailbox-set-active", args=[world.mailbox.pk]), {"active": "0", "confirmed": "1"},
                      headers={"HX-Request": "true"}, **french).content.decode()
    assert 'data-label="Utilisé"' in row and ">Supprimer</a>" in row
    domains = client.get(reverse("domains:domain-list"), **french).content.decode()
    assert 'data-label="Boîtes aux lettres"' in domains
    quota = client.get("/quota/", **french).content.decode()
    assert 'data-label="Utilisé"' in quota


@pytest.mark.parametrize("filters", ["", "?q=user1", "?active=no", "?idle=30", "?q=%20"])
def test_mailbox_limit_counts_the_whole_domain_whatever_the_filter(world, filters):
    """The list's own count stands in for the domain's mailbox count only when nothing filters it."""
    world.domain.max_mailboxes = 50
    world.domain.save()
    for i in range(3):
        MailboxFactory(domain=world.domain, local_part=f"user{i}")
    total = Mailbox.objects.filter(domain=world.domain).count()
    body = world.client("superadmin").get(
        reverse("domains:domain-mailbox-list", args=[world.domain.pk]) + filters).content.decode()
    assert f"{total} of 50 mailboxes used." in body
