"""Cache-Control: no-store on every response to a logged-in visitor (issue 11, item 6), and a
403 without a traceback in the log (issue 11, low item)."""
import logging

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD
from tests.roles import every_url, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


@pytest.mark.parametrize("role", ["superadmin", "domain_admin", "other_admin", "half_2fa"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_every_view_says_no_store_to_a_logged_in_visitor(world, role, htmx):
    client = world.client(role)
    headers = {"HX-Request": "true"} if htmx else {}
    for name, path in every_url(world):
        if name in ("accounts:logout", "mailuser:logout"):
            continue  # would end the session for the URLs after it (tested below)
        response = client.get(path, headers=headers)
        assert response.status_code < 500, (name, response.status_code)
        assert "no-store" in response.get("Cache-Control", ""), (role, name, response.status_code)


def test_the_pages_with_secrets_say_no_store(world):
    client = world.client("superadmin")
    # The page that shows a generated password once.
    response = client.post(reverse("domains:mailbox-create", args=[world.domain.pk]),
                           {"local_part": "new", "generate_password": "on", "active": "on"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    csv = client.get(reverse("quota:export"))
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "no-store" in csv["Cache-Control"]
    assert "no-store" in client.post(reverse("accounts:logout"))["Cache-Control"]


def test_every_view_says_no_store_to_a_mail_user(world):
    client = Client()
    response = client.post(reverse("mailuser:login"), {"address": world.mailbox.address, "password": TEST_PASSWORD})
    assert "no-store" in response["Cache-Control"]
    for url in ("/me/", "/me/password/", "/me/forwarding/"):
        response = client.get(url)
        assert response.status_code == 200 and "no-store" in response["Cache-Control"], url
    for name, path in every_url(world):
        if name not in ("accounts:logout", "mailuser:logout"):
            assert "no-store" in client.get(path).get("Cache-Control", ""), name


def test_static_files_stay_cacheable_for_logged_in_visitors(world):
    response = world.client("superadmin").get("/static/css/app.css")
    assert response.status_code == 200 and "no-store" not in response.get("Cache-Control", "")


def test_a_superadmin_only_page_is_a_403_without_traceback(world, caplog):
    client = world.client("domain_admin")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("domains:domain-create"))
        client.post(reverse("domains:domain-set-active", args=[world.domain.pk]), {"active": "0"})
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 2 and all(r.status_code == 403 and r.levelno == logging.WARNING for r in records)
    assert all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text
