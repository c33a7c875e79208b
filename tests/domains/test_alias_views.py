import pytest
from django.urls import reverse

from audit.models import AuditEntry
from domains.models import Alias, AliasDomain
from tests.factories import AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory
from tests.roles import ROLES, check_role, make_world

pytestmark = pytest.mark.django_db

SECRET = "secret-target@hidden.example"


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def alias(world):
    return AliasFactory(domain=world.domain, address="sales@example.org", destinations=[SECRET])


@pytest.fixture
def alias_domain(world):
    return AliasDomainFactory(name="example.net", target=world.domain)


# --- the role matrix, view by view -----------------------------------------------------

# (name, method, url builder, POST data, roles that may act). Every one of these is about
# world.domain, so the other domain's admin must get a 404.
SCOPED_VIEWS = [
    ("domain-alias-list", "get", lambda w, a, ad: reverse("domains:domain-alias-list", args=[w.domain.pk]), None),
    ("domain-alias-search", "get", lambda w, a, ad: reverse("domains:domain-alias-list", args=[w.domain.pk]) + "?q=sales", None),
    ("alias-update-get", "get", lambda w, a, ad: reverse("domains:alias-update", args=[a.pk]), None),
    ("alias-update-post", "post", lambda w, a, ad: reverse("domains:alias-update", args=[a.pk]),
     {"destinations": "x@elsewhere.example", "active": "on"}),
    ("alias-set-active", "post", lambda w, a, ad: reverse("domains:alias-set-active", args=[a.pk]), {"active": "0", "confirmed": "1"}),
    ("alias-delete-get", "get", lambda w, a, ad: reverse("domains:alias-delete", args=[a.pk]), None),
    ("alias-delete-post", "post", lambda w, a, ad: reverse("domains:alias-delete", args=[a.pk]), {}),
    ("forwarding-get", "get", lambda w, a, ad: reverse("domains:mailbox-forwarding", args=[w.mailbox.pk]), None),
    ("forwarding-post", "post", lambda w, a, ad: reverse("domains:mailbox-forwarding", args=[w.mailbox.pk]),
     {"destinations": "x@elsewhere.example", "keep_copy": "on"}),
    ("aliasdomain-list-filtered", "get", lambda w, a, ad: reverse("domains:aliasdomain-list") + f"?domain={w.domain.pk}", None),
    ("aliasdomain-set-active", "post", lambda w, a, ad: reverse("domains:aliasdomain-set-active", args=[ad.pk]), {"active": "0", "confirmed": "1"}),
    ("aliasdomain-delete-get", "get", lambda w, a, ad: reverse("domains:aliasdomain-delete", args=[ad.pk]), None),
    ("aliasdomain-delete-post", "post", lambda w, a, ad: reverse("domains:aliasdomain-delete", args=[ad.pk]), {}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,method,url,data", SCOPED_VIEWS, ids=[v[0] for v in SCOPED_VIEWS])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_scoped_views_role_matrix(world, alias, alias_domain, role, name, method, url, data, htmx):
    client = world.client(role)
    headers = {"HX-Request": "true"} if htmx else {}
    before = AuditEntry.objects.count()
    response = getattr(client, method)(url(world, alias, alias_domain), data, headers=headers)
    acted = check_role(world, role, response, allowed={"superadmin", "domain_admin"},
                       secrets=[SECRET, "sales@", "example.net"])
    if method == "post":
        # Writes happen for the allowed roles only, and always leave an audit entry.
        assert (AuditEntry.objects.count() > before) == acted


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", ["domains:alias-list", "domains:aliasdomain-list"])
def test_global_lists_show_only_the_admins_domains(world, alias, alias_domain, role, url_name):
    their_alias = AliasFactory(domain=world.other_domain, address="theirs@other.example")
    AliasDomainFactory(name="other.net", target=world.other_domain)
    response = world.client(role).get(reverse(url_name), {"q": ""})
    if not check_role(world, role, response, allowed={"superadmin", "domain_admin", "other_admin"}):
        return
    body = response.content.decode()
    mine = "sales@example.org" if url_name == "domains:alias-list" else "example.net"
    theirs = their_alias.address if url_name == "domains:alias-list" else "other.net"
    assert (mine in body) == (role in {"superadmin", "domain_admin"})
    assert (theirs in body) == (role in {"superadmin", "other_admin"})
    if role == "other_admin":
        assert SECRET not in body


def test_search_and_counts_never_leak_across_domains(world, alias):
    client = world.client("other_admin")
    response = client.get(reverse("domains:alias-list"), {"q": "sales"}, headers={"HX-Request": "true",
                                                                                  "HX-Target": "alias-table"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "sales@example.org" not in body and SECRET not in body
    assert "0 aliases" in body
    # Searching by a destination only finds the admin's own aliases too.
    response = client.get(reverse("domains:alias-list"), {"q": SECRET})
    assert response.context["page"].paginator.count == 0


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", ["domains:alias-create", "domains:aliasdomain-create"])
def test_create_forms_role_matrix(world, role, url_name):
    client = world.client(role)
    response = client.get(reverse(url_name))
    if not check_role(world, role, response, allowed={"superadmin", "domain_admin", "other_admin"}, ok=(200,)):
        return
    choices = response.content.decode()
    # The domain select offers only the admin's own domains.
    assert ("example.org" in choices) == (role in {"superadmin", "domain_admin"})
    if url_name == "domains:alias-create":
        data = {"domain": world.domain.pk, "local_part": "info", "destinations": "a@b.example", "active": "on"}
    else:
        data = {"name": "new-alias.example", "target": world.domain.pk, "active": "on"}
    response = client.post(reverse(url_name), data)
    if role == "other_admin":
        assert response.status_code == 200
        field = "domain" if url_name == "domains:alias-create" else "target"
        assert response.context["form"].has_error(field, "invalid_choice")
        assert not Alias.objects.filter(address="info@example.org").exists()
        assert not AliasDomain.objects.filter(name="new-alias.example").exists()
    else:
        assert response.status_code == 302


# --- behaviour ------------------------------------------------------------------------

def test_alias_list_renders_table_partial_for_htmx_and_full_page_otherwise(world, alias):
    client = world.client("domain_admin")
    url = reverse("domains:domain-alias-list", args=[world.domain.pk])
    full = client.get(url)
    assert "<html" in full.content.decode() and 'id="alias-table"' in full.content.decode()
    partial = client.get(url, {"q": "sal"}, headers={"HX-Request": "true", "HX-Target": "alias-table"})
    body = partial.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="alias-table"')
    assert "sales@example.org" in body


def test_alias_list_search_sort_filter_and_catchall(world):
    AliasFactory(domain=world.domain, address="b@example.org", destinations=["z@x.example"], active=False)
    AliasFactory(domain=world.domain, address="a@example.org", destinations=["bob@example.org"])
    AliasFactory(domain=world.domain, address="@example.org", destinations=["bob@example.org"])
    AliasFactory(domain=world.domain, address="bob@example.org", destinations=["x@y.example"],
                 mailbox=world.mailbox)  # a forwarding: listed on its mailbox, not here
    client = world.client("domain_admin")
    url = reverse("domains:domain-alias-list", args=[world.domain.pk])

    def addresses(**params):
        return [a.address for a in client.get(url, params).context["page"].object_list]

    assert addresses() == ["@example.org", "a@example.org", "b@example.org"]
    assert addresses(sort="-address") == ["b@example.org", "a@example.org", "@example.org"]
    assert addresses(active="no") == ["b@example.org"]
    assert addresses(active="yes", q="A@EX") == ["a@example.org"]
    assert addresses(q="bob@example.org") == ["@example.org", "a@example.org"]  # by destination
    assert addresses(sort="nonsense") == addresses()
    body = client.get(url, {"q": "a", "page": "1"}).content.decode()
    assert "catch-all" in body
    # The sorted column says so, and its link reverses the order, keeping the filters.
    assert 'aria-sort="ascending"><a href="?q=a&amp;sort=-address"' in body
    assert '<a href="?q=a&amp;sort=modified"' in body


def test_alias_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    world.domain_admin.list_page_size = 50
    world.domain_admin.save()
    client = world.client("domain_admin")
    url = reverse("domains:alias-list")
    for n in range(30):
        AliasFactory(domain=world.domain, address=f"a{n}@example.org", destinations=["x@y.example", "z@y.example"])
    # session + user + count + page (+ savepoints): fixed, whatever the number of rows.
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 30


def test_aliasdomain_list_query_count(world, django_assert_max_num_queries):
    for n in range(20):
        AliasDomainFactory(name=f"ad{n}.example", target=DomainFactory() if n % 2 else world.domain)
    client = world.client("superadmin")
    with django_assert_max_num_queries(6):
        response = client.get(reverse("domains:aliasdomain-list"))
    assert len(response.context["page"].object_list) == 20


def test_create_alias_with_destinations_and_catchall(world):
    client = world.client("domain_admin")
    response = client.post(reverse("domains:alias-create"), {
        "domain": world.domain.pk, "local_part": "Info", "destinations": "a@b.example\n\nC@D.example, e@f.example",
        "active": "on"})
    assert response.status_code == 302
    alias = Alias.objects.get(address="info@example.org")
    assert alias.destinations == ["a@b.example", "c@d.example", "e@f.example"]
    response = client.post(reverse("domains:alias-create"), {
        "domain": world.domain.pk, "catchall": "on", "destinations": "a@b.example", "active": "on"},
        headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"].endswith(f"/domains/{world.domain.pk}/aliases/")
    assert Alias.objects.get(address="@example.org").active
    entry = AuditEntry.objects.filter(action="alias.create").first()
    assert entry.actor == world.domain_admin and entry.domain_name == "example.org"


@pytest.mark.parametrize("data,field,code", [
    ({"local_part": "", "destinations": "a@b.example"}, "local_part", "local_part_required"),
    ({"local_part": "x", "catchall": "on", "destinations": "a@b.example"}, "local_part", "catchall_with_local_part"),
    ({"local_part": "x", "destinations": ""}, "destinations", "required"),
    ({"local_part": "x", "destinations": "not-an-address"}, "destinations", "address_invalid"),
    ({"local_part": "bad name", "destinations": "a@b.example"}, "local_part", "local_part_invalid"),
    ({"local_part": "bob", "destinations": "a@b.example"}, "local_part", "address_is_mailbox"),
    ({"local_part": "sales", "destinations": "a@b.example"}, "local_part", "address_is_alias"),
    ({"local_part": "x", "destinations": "x@example.org"}, "destinations", "alias_loop"),
])
def test_create_alias_errors_are_explained_at_the_form(world, alias, data, field, code):
    client = world.client("domain_admin")
    response = client.post(reverse("domains:alias-create"), {"domain": world.domain.pk, **data})
    assert response.status_code == 200
    assert response.context["form"].has_error(field, code)
    # Under htmx the same errors come back in the form partial, status 200, no page around it.
    response = client.post(reverse("domains:alias-create"), {"domain": world.domain.pk, **data},
                           headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<form id="alias-form"') and 'class="errorlist' in body


def test_alias_limit_is_reported(world, alias):
    world.domain.max_aliases = 1
    world.domain.save()
    response = world.client("domain_admin").post(reverse("domains:alias-create"), {
        "domain": world.domain.pk, "local_part": "more", "destinations": "a@b.example"})
    assert response.context["form"].has_error("__all__", "alias_limit_reached")
    assert "Alias limit reached" in response.content.decode()
    page = world.client("domain_admin").get(reverse("domains:alias-create"), {"domain": world.domain.pk})
    assert "example.org has 1 of at most 1 aliases." in page.content.decode()
    # Someone else's domain in the query string tells nothing.
    page = world.client("other_admin").get(reverse("domains:alias-create"), {"domain": world.domain.pk})
    assert page.status_code == 200 and "example.org" not in page.content.decode()


def test_update_toggle_and_delete_alias(world, alias):
    client = world.client("domain_admin")
    url = reverse("domains:alias-update", args=[alias.pk])
    assert SECRET in client.get(url).content.decode()
    response = client.post(url, {"destinations": "one@x.example\ntwo@x.example", "active": "on"})
    assert response.status_code == 302
    alias.refresh_from_db()
    assert alias.destinations == ["one@x.example", "two@x.example"]

    response = client.post(reverse("domains:alias-set-active", args=[alias.pk]), {"active": "0", "confirmed": "1"},
                           headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith(f'<tr id="alias-{alias.pk}"')
    assert 'aria-checked="false"' in body
    alias.refresh_from_db()
    assert not alias.active
    back = reverse("domains:domain-alias-list", args=[world.domain.pk]) + "?q=sa"
    response = client.post(reverse("domains:alias-set-active", args=[alias.pk]), {"active": "1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    response = client.post(reverse("domains:alias-set-active", args=[alias.pk]),
                           {"active": "1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("domains:domain-alias-list", args=[world.domain.pk])

    assert "Delete the alias" in client.get(reverse("domains:alias-delete", args=[alias.pk])).content.decode()
    client.post(reverse("domains:alias-delete", args=[alias.pk]))
    assert not Alias.objects.filter(pk=alias.pk).exists()
    assert list(AuditEntry.objects.filter(object_repr="sales@example.org").values_list("action", flat=True)) == [
        "alias.delete", "alias.update", "alias.update", "alias.update", "alias.update"]


def test_forwarding_aliases_are_not_edited_on_alias_pages(world):
    forwarding = AliasFactory(domain=world.domain, address="bob@example.org", destinations=["x@y.example"],
                              mailbox=world.mailbox)
    client = world.client("superadmin")
    for name in ("domains:alias-update", "domains:alias-delete"):
        assert client.get(reverse(name, args=[forwarding.pk])).status_code == 404
    assert client.post(reverse("domains:alias-set-active", args=[forwarding.pk]), {"active": "0", "confirmed": "1"}).status_code == 404


def test_mailbox_forwarding_page(world):
    client = world.client("domain_admin")
    url = reverse("domains:mailbox-forwarding", args=[world.mailbox.pk])
    page = client.get(url)
    assert page.context["form"]["keep_copy"].value() is True
    response = client.post(url, {"destinations": "far@away.example\nnear@example.org", "keep_copy": "on"})
    assert response.status_code == 302
    forwarding = Alias.objects.get(mailbox=world.mailbox)
    assert forwarding.destinations == ["bob@example.org", "far@away.example", "near@example.org"]
    page = client.get(url)
    assert page.context["form"]["destinations"].value() == "far@away.example\nnear@example.org"

    client.post(url, {"destinations": "far@away.example"})  # no copy kept
    forwarding.refresh_from_db()
    assert forwarding.destinations == ["far@away.example"]
    client.post(url, {"destinations": ""})  # empty: forwarding stops
    assert not Alias.objects.filter(mailbox=world.mailbox).exists()
    assert list(AuditEntry.objects.filter(action__startswith="forwarding.").values_list("action", flat=True)) == [
        "forwarding.delete", "forwarding.update", "forwarding.create"]


def test_mailbox_forwarding_errors(world):
    world.domain.allow_external_forwarding = False
    world.domain.save()
    client = world.client("domain_admin")
    url = reverse("domains:mailbox-forwarding", args=[world.mailbox.pk])
    response = client.post(url, {"destinations": "far@away.example", "keep_copy": "on"})
    assert response.context["form"].has_error("destinations", "external_forwarding_disallowed")
    response = client.post(url, {"destinations": "bob@example.org"})
    assert response.context["form"].has_error("destinations", "destinations_empty")


def test_alias_domain_create_toggle_delete(world):
    client = world.client("domain_admin")
    response = client.post(reverse("domains:aliasdomain-create"), {"name": "Bücher.example", "target": world.domain.pk,
                                                                   "active": "on"})
    assert response.status_code == 302
    alias_domain = AliasDomain.objects.get(name="xn--bcher-kva.example")
    body = client.get(reverse("domains:aliasdomain-list")).content.decode()
    assert "bücher.example" in body
    response = client.post(reverse("domains:aliasdomain-set-active", args=[alias_domain.pk]), {"active": "0", "confirmed": "1"},
                           headers={"HX-Request": "true"})
    assert f'id="aliasdomain-{alias_domain.pk}"' in response.content.decode()
    alias_domain.refresh_from_db()
    assert not alias_domain.active
    client.post(reverse("domains:aliasdomain-delete", args=[alias_domain.pk]))
    assert not AliasDomain.objects.exists()
    assert AuditEntry.objects.filter(action="aliasdomain.delete", domain_name="example.org").exists()


@pytest.mark.parametrize("name,code", [("example.org", "alias_domain_self"), ("other.example", "name_is_domain"),
                                       ("not a domain", "domain_invalid")])
def test_alias_domain_errors(world, name, code):
    response = world.client("superadmin").post(reverse("domains:aliasdomain-create"),
                                               {"name": name, "target": world.domain.pk})
    assert response.context["form"].has_error("name", code)


def test_backup_mx_domains_are_not_offered(world):
    DomainFactory(name="relay.example", backup_mx=True)
    body = world.client("superadmin").get(reverse("domains:alias-create")).content.decode()
    assert "example.org" in body and "relay.example" not in body


@pytest.mark.parametrize("role", ROLES)
def test_address_check_role_matrix(world, alias, role):
    response = world.client(role).get(reverse("domains:alias-address-check"),
                                      {"domain": world.domain.pk, "local_part": "sales"}, headers={"HX-Request": "true"})
    if not check_role(world, role, response, allowed={"superadmin", "domain_admin", "other_admin"}, ok=(200,)):
        return
    body = response.content.decode()
    if role == "other_admin":
        # Someone else's domain: the same empty answer as for a domain that does not exist.
        assert "sales" not in body and 'class="field-check"' in body
    else:
        assert "sales@example.org is already an alias." in body


@pytest.mark.parametrize("params,expected", [
    ({"local_part": "bob"}, "bob@example.org is a mailbox"),
    ({"local_part": "New"}, "new@example.org is free."),
    ({"local_part": "bad name"}, "is not a valid address name"),
    ({"local_part": "", "catchall": "on"}, "@example.org is free."),
    ({"local_part": ""}, ""),
])
def test_address_check_messages(world, params, expected):
    response = world.client("domain_admin").get(reverse("domains:alias-address-check"),
                                                {"domain": world.domain.pk, **params})
    body = response.content.decode()
    assert body.startswith('<p id="address-check"') and expected in body


def test_internationalized_destinations_are_shown_in_unicode(world):
    alias = AliasFactory(domain=world.domain, address="intl@example.org", destinations=["anna@xn--bcher-kva.example"])
    client = world.client("domain_admin")
    assert "anna@bücher.example" in client.get(reverse("domains:domain-alias-list", args=[world.domain.pk])).content.decode()
    assert client.get(reverse("domains:alias-update", args=[alias.pk])).context["form"]["destinations"].value() == \
        "anna@bücher.example"
    client.post(reverse("domains:alias-update", args=[alias.pk]), {"destinations": "anna@bücher.example", "active": "on"})
    alias.refresh_from_db()
    assert alias.destinations == ["anna@xn--bcher-kva.example"]


def test_success_messages_are_shown_after_redirect(world, alias):
    client = world.client("domain_admin")
    response = client.post(reverse("domains:alias-delete", args=[alias.pk]), follow=True)
    assert 'role="status"' in response.content.decode()
    assert "Alias sales@example.org deleted." in response.content.decode()


def test_an_empty_post_is_validated_not_ignored(world):
    response = world.client("domain_admin").post(reverse("domains:alias-create"))
    assert response.status_code == 200
    assert response.context["form"].has_error("domain", "required")
    assert response.context["form"].has_error("destinations", "required")
