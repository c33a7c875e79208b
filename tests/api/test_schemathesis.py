"""Schemathesis runs the OpenAPI schema's property-based checks against the API (the real WSGI
application over the test database): whatever it generates, no 5xx, and every response,
errors included, matches the schema (status code, content type, headers, body)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from api.services import token_create
from mailadmin.wsgi import application
from tests.factories import AliasDomainFactory, AliasFactory
from tests.roles import make_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_test_connection(db):
    """As Django's test client does: the test's transaction must outlive each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_tokens(db):
    """Tokens of a superadmin and of a domain admin, over a small world with every kind of row,
    so generated ids and names hit existing objects as well as missing ones."""
    world = make_world()
    AliasFactory(domain=world.domain, address="info@example.org", destinations=["bob@example.org"])
    AliasFactory(domain=world.domain, address="@example.org", destinations=["bob@example.org"])
    AliasDomainFactory(name="alias.example", target=world.domain)
    return {role: token_create(admin=getattr(world, role), name="schemathesis", expires_in_days=7,
                               acting_user=getattr(world, role))[1]
            for role in ("superadmin", "domain_admin")}


# Loaded when the module is collected (the schema endpoint needs no database); the lazy
# from_fixture loader of schemathesis 4.32 does not work with pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


# Bounded: about 2.5 minutes for both roles on the CI machine.
SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=12, **SETTINGS)
def test_api_matches_its_schema_as_superadmin(case, api_tokens):
    case.call_and_validate(headers={"Authorization": f"Bearer {api_tokens['superadmin']}"}, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=6, **SETTINGS)
def test_api_matches_its_schema_as_domain_admin(case, api_tokens):
    case.call_and_validate(headers={"Authorization": f"Bearer {api_tokens['domain_admin']}"}, checks=CHECKS)
