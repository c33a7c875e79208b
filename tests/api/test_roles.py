"""The role matrix over every API endpoint: who gets what, and nothing leaks or changes
for those who may not act. Writes that succeed are audited with the token's admin as actor."""
from __future__ import annotations

import pytest

from audit.models import AuditEntry
from tests.factories import AliasDomainFactory, AliasFactory, QuotaUsageFactory
from tests.roles import API_ROLES, API_UNAUTHENTICATED, api_client, make_world

pytestmark = pytest.mark.django_db

SA, DA, OA = "superadmin", "domain_admin", "other_admin"

# (name, method, path, body, expected status per authenticated role). {domain}, {mailbox},
# {alias}, {alias_domain}, {admin} are objects of example.org (alice's domain, not mallory's).
CASES = [
    ("domains.list", "get", "/api/v1/domains", None, {SA: 200, DA: 200, OA: 200}),
    ("domains.create", "post", "/api/v1/domains", {"name": "new.example"}, {SA: 201, DA: 403, OA: 403}),
    ("domains.get", "get", "/api/v1/domains/{domain}", None, {SA: 200, DA: 200, OA: 404}),
    ("domains.update", "patch", "/api/v1/domains/{domain}", {"description": "ours"}, {SA: 200, DA: 200, OA: 404}),
    ("domains.update_limits", "patch", "/api/v1/domains/{domain}", {"max_mailboxes": 5}, {SA: 200, DA: 403, OA: 404}),
    ("domains.deactivate", "patch", "/api/v1/domains/{domain}", {"active": False}, {SA: 200, DA: 403, OA: 404}),
    ("domains.delete", "delete", "/api/v1/domains/{domain}", None, {SA: 204, DA: 403, OA: 404}),
    ("mailboxes.list", "get", "/api/v1/mailboxes", None, {SA: 200, DA: 200, OA: 200}),
    ("mailboxes.list_domain", "get", "/api/v1/mailboxes?domain={domain}", None, {SA: 200, DA: 200, OA: 400}),
    ("mailboxes.create", "post", "/api/v1/mailboxes",
     {"domain_id": "{domain}", "local_part": "new", "password": "a long password"}, {SA: 201, DA: 201, OA: 400}),
    ("mailboxes.get", "get", "/api/v1/mailboxes/{mailbox}", None, {SA: 200, DA: 200, OA: 404}),
    ("mailboxes.update", "patch", "/api/v1/mailboxes/{mailbox}", {"name": "Bob", "active": False},
     {SA: 200, DA: 200, OA: 404}),
    ("mailboxes.password", "patch", "/api/v1/mailboxes/{mailbox}", {"password": "another password"},
     {SA: 200, DA: 200, OA: 404}),
    ("mailboxes.delete", "delete", "/api/v1/mailboxes/{mailbox}", None, {SA: 204, DA: 204, OA: 404}),
    ("forwarding.get", "get", "/api/v1/mailboxes/{mailbox}/forwarding", None, {SA: 200, DA: 200, OA: 404}),
    ("forwarding.set", "put", "/api/v1/mailboxes/{mailbox}/forwarding",
     {"destinations": ["bob@elsewhere.example"], "keep_copy": True}, {SA: 200, DA: 200, OA: 404}),
    ("aliases.list", "get", "/api/v1/aliases", None, {SA: 200, DA: 200, OA: 200}),
    ("aliases.list_domain", "get", "/api/v1/aliases?domain={domain}", None, {SA: 200, DA: 200, OA: 400}),
    ("aliases.create", "post", "/api/v1/aliases",
     {"domain_id": "{domain}", "local_part": "sales", "destinations": ["bob@example.org"]}, {SA: 201, DA: 201, OA: 400}),
    ("aliases.create_catchall", "post", "/api/v1/aliases",
     {"domain_id": "{domain}", "local_part": "", "destinations": ["bob@example.org"]}, {SA: 201, DA: 201, OA: 400}),
    ("aliases.get", "get", "/api/v1/aliases/{alias}", None, {SA: 200, DA: 200, OA: 404}),
    ("aliases.update", "patch", "/api/v1/aliases/{alias}", {"destinations": ["bob@example.org"], "active": False},
     {SA: 200, DA: 200, OA: 404}),
    ("aliases.delete", "delete", "/api/v1/aliases/{alias}", None, {SA: 204, DA: 204, OA: 404}),
    ("alias_domains.list", "get", "/api/v1/alias-domains", None, {SA: 200, DA: 200, OA: 200}),
    # A domain admin's alias domain is a request, inactive until a superadmin approves it.
    ("alias_domains.create", "post", "/api/v1/alias-domains", {"name": "new-alias.example", "target_id": "{domain}"},
     {SA: 201, DA: 201, OA: 400}),
    ("alias_domains.approve", "post", "/api/v1/alias-domains/{pending}/approve", {}, {SA: 200, DA: 403, OA: 404}),
    ("alias_domains.get", "get", "/api/v1/alias-domains/{alias_domain}", None, {SA: 200, DA: 200, OA: 404}),
    ("alias_domains.update", "patch", "/api/v1/alias-domains/{alias_domain}", {"active": False},
     {SA: 200, DA: 200, OA: 404}),
    ("alias_domains.delete", "delete", "/api/v1/alias-domains/{alias_domain}", None, {SA: 204, DA: 204, OA: 404}),
    ("quota.list", "get", "/api/v1/quota", None, {SA: 200, DA: 200, OA: 200}),
    ("quota.list_domain", "get", "/api/v1/quota?domain={domain}&filter=90", None, {SA: 200, DA: 200, OA: 400}),
    ("audit.list", "get", "/api/v1/audit", None, {SA: 200, DA: 200, OA: 200}),
    ("audit.list_domain", "get", "/api/v1/audit?domain=example.org", None, {SA: 200, DA: 200, OA: 404}),
    ("admins.list", "get", "/api/v1/admins", None, {SA: 200, DA: 404, OA: 404}),
    ("admins.create", "post", "/api/v1/admins", {"username": "carol", "password": "a long password 42",
                                                  "domain_ids": ["{domain}"]}, {SA: 201, DA: 404, OA: 404}),
    ("admins.get", "get", "/api/v1/admins/{admin}", None, {SA: 200, DA: 404, OA: 404}),
    ("admins.update", "patch", "/api/v1/admins/{admin}", {"email": "alice@new.example"}, {SA: 200, DA: 404, OA: 404}),
    ("admins.delete", "delete", "/api/v1/admins/{admin}", None, {SA: 204, DA: 404, OA: 404}),
]

# What another domain's admin must never see in any answer.
SECRETS = ("example.org", "bob@")


def _fill(value, ids: dict[str, int]):
    if isinstance(value, str):
        for key, pk in ids.items():
            if value == "{" + key + "}":
                return pk
            value = value.replace("{" + key + "}", str(pk))
        return value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", API_ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_api_role_matrix(case, role):
    name, method, path, body, expected = case
    world = make_world()
    alias = AliasFactory(domain=world.domain, address="info@example.org", destinations=["bob@example.org"])
    alias_domain = AliasDomainFactory(name="alias.example", target=world.domain, approved=True)
    pending = AliasDomainFactory(name="requested.example", target=world.domain, approved=False, active=False)
    world.mailbox.usage.delete()
    QuotaUsageFactory(mailbox=world.mailbox, bytes=10, messages=1)
    ids = {"domain": world.domain.pk, "mailbox": world.mailbox.pk, "alias": alias.pk,
           "alias_domain": alias_domain.pk, "pending": pending.pk, "admin": world.domain_admin.pk}
    client, headers = api_client(world, role)
    audited_before = AuditEntry.objects.exclude(action__startswith="apitoken.").count()

    kwargs = {"content_type": "application/json", "data": _fill(body, ids)} if body is not None else {}
    response = getattr(client, method)(_fill(path, ids), **kwargs, **headers)

    content = response.content.decode()
    if role in API_UNAUTHENTICATED:
        assert response.status_code == 401, (role, response.status_code, content)
        assert response.json()["errors"][0]["code"] == "unauthorized"
        assert response["WWW-Authenticate"] == "Bearer"
    else:
        assert response.status_code == expected[role], (role, response.status_code, content)
        if response.status_code >= 400:
            assert response.json()["errors"][0]["code"]
    if role == OA:
        for secret in SECRETS:
            assert secret not in content, (name, secret)
    audited = AuditEntry.objects.exclude(action__startswith="apitoken.")
    if method != "get" and response.status_code < 300:
        # SECURITY: the audit row names the token's admin, never the session's user.
        actor = getattr(world, role)
        assert audited.count() > audited_before
        assert set(audited.order_by("-id")[:1].values_list("actor", flat=True)) == {actor.pk}
    else:
        assert audited.count() == audited_before  # denied: nothing written
