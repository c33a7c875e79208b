"""The per-token throttle holds when one token's requests arrive in parallel (gunicorn runs
several workers and threads): the window is read, checked and written back under a lock."""
from __future__ import annotations

import pytest
from django.test import Client

from api.services import token_create
from tests.domains.test_concurrency import run_concurrently
from tests.factories import SuperadminFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_requests_with_one_token_do_not_exceed_the_rate(settings):
    settings.MAILADMIN_API_RATE = "3/min"
    admin = SuperadminFactory()
    _, secret = token_create(admin=admin, name="burst", expires_in_days=7, acting_user=admin)
    statuses = run_concurrently(12, lambda i: Client().get("/api/v1/domains",
                                                            HTTP_AUTHORIZATION=f"Bearer {secret}").status_code)
    assert sorted(statuses) == [200] * 3 + [429] * 9
