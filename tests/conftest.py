pytest_plugins = ["tests.mailstack.harness"]

import pytest

from tests.factories import AdminFactory, DomainFactory, SuperadminFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test sees the rows it made, not a dashboard cached by the previous one."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A French request activates French for the thread: later tests (the CLI's English
    messages) must not depend on which test ran before them."""
    from django.utils import translation

    yield
    translation.activate("en")


@pytest.fixture
def superadmin(db):
    return SuperadminFactory()


@pytest.fixture
def domain(db):
    return DomainFactory(name="example.org")


@pytest.fixture
def domain_admin(db, domain):
    return AdminFactory(domains=[domain])
