"""Vacation replies in the panel: the mail user's page, the admin's switch, the CLI; and last
login on the mailbox list (sort, filter), the mailbox page, the CSV export and the admins list."""
import csv
import io
import json
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from domains import selectors
from domains.models import LastLogin
from tests.factories import TEST_PASSWORD
from tests.roles import ROLES, check_role, make_world
from vacation.models import Vacation

pytestmark = pytest.mark.django_db

FORM = {"active": "on", "subject": 'Away "now"; discard;', "body": "I am away.\r\n.\r\nBack on Monday.",
        "first_day": "", "last_day": "", "days": "3"}


@pytest.fixture
def world():
    world = make_world()
    # A mail user logged in through /me/login/ (the role matrix's "mail_user" session is a stub).
    world.me = Client()
    assert world.me.post("/me/login/", {"address": "bob@example.org", "password": TEST_PASSWORD}).status_code == 302
    return world


def test_mail_user_sets_vacation_and_sees_it(world):
    client = world.me
    assert client.get("/me/vacation/").status_code == 200
    response = client.post("/me/vacation/", FORM)
    assert response.status_code == 302
    vacation = Vacation.objects.get(mailbox=world.mailbox)
    assert vacation.active and vacation.days == 3 and vacation.body == "I am away.\n.\nBack on Monday."
    assert ':from "bob@example.org"' in vacation.script and '\\"now\\"; discard;' in vacation.script
    assert AuditEntry.objects.filter(action="vacation.set", actor_label="bob@example.org").exists()
    assert "replying" in client.get("/me/").content.decode()
    # The Sieve dict's view serves it to Dovecot, with the script's MD5 as data ID.
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT script_name, data_id, script FROM vacation_sieve WHERE username = %s",
                       ["bob@example.org"])
        (name, data_id, script), = cursor.fetchall()
    assert name == "active" and script == vacation.script and len(data_id) == 32


@pytest.mark.parametrize("change, field, code", [
    ({"first_day": "2030-01-05", "last_day": "2030-01-04"}, "last_day", "last_before_first"),
    ({"subject": "two\nlines"}, "subject", "control_character"),
    ({"body": "bell\x07"}, "body", "control_character"),
    ({"days": "0"}, "days", "min_value"),
    ({"days": "61"}, "days", "max_value"),
    ({"body": "   "}, "body", "required"),
])
def test_bad_input_is_refused_at_the_form(world, change, field, code):
    response = world.me.post("/me/vacation/", {**FORM, **change})
    assert response.status_code == 200
    assert response.context["form"].has_error(field, code)
    assert not Vacation.objects.exists()


def test_an_inactive_mailbox_serves_no_script(world):
    world.me.post("/me/vacation/", FORM)
    world.mailbox.active = False
    world.mailbox.save()
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM vacation_sieve")
        assert cursor.fetchone() == (0,)


@pytest.mark.parametrize("role", ROLES)
def test_admin_switches_vacation_off_within_scope(world, role):
    world.me.post("/me/vacation/", FORM)
    response = world.client(role).post(reverse("vacation:admin-off", args=[world.mailbox.pk]))
    did = check_role(world, role, response, allowed={"superadmin", "domain_admin"})
    assert Vacation.objects.get(mailbox=world.mailbox).active is (not did)
    if did:
        assert AuditEntry.objects.filter(action="vacation.off").exists()


def test_mailbox_page_shows_vacation_and_last_login(world):
    world.me.post("/me/vacation/", FORM)
    LastLogin.objects.create(mailbox=world.mailbox, last_login=1_700_000_000)
    page = world.client("superadmin").get(reverse("domains:mailbox-detail", args=[world.mailbox.pk])).content.decode()
    assert "Automatic replies" in page and "Switch automatic replies off" in page
    assert 'datetime="2023-11-14T22:13:20+00:00"' in page


def test_mailbox_list_sorts_and_filters_by_last_login(world):
    from tests.factories import MailboxFactory
    now = time.time()
    recent = MailboxFactory(domain=world.domain, local_part="recent")
    old = MailboxFactory(domain=world.domain, local_part="old")
    LastLogin.objects.create(mailbox=recent, last_login=int(now - 3600))
    LastLogin.objects.create(mailbox=old, last_login=int(now - 40 * 86400))
    # world.mailbox (bob) never logged in: the most idle of all.
    order = [m.local_part for m in selectors.mailbox_list(world.superadmin, domain=world.domain, sort="login")]
    assert order == ["bob", "old", "recent"]
    order = [m.local_part for m in selectors.mailbox_list(world.superadmin, domain=world.domain, sort="-login")]
    assert order == ["recent", "old", "bob"]
    idle = {m.local_part for m in selectors.mailbox_list(world.superadmin, domain=world.domain, idle_days=30)}
    assert idle == {"bob", "old"}
    client = world.client("domain_admin")
    page = client.get(reverse("domains:domain-mailbox-list", args=[world.domain.pk]), {"idle": "30", "sort": "login"})
    body = page.content.decode()
    assert "old@example.org" in body and "recent@example.org" not in body and "never" in body
    # An odd value is ignored, not an error.
    assert client.get(reverse("domains:mailbox-list"), {"idle": "-3"}).status_code == 200


def test_csv_export_carries_last_login(world):
    LastLogin.objects.create(mailbox=world.mailbox, last_login=1_700_000_000)
    response = world.client("superadmin").get(reverse("domains:export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    (row,) = [r for r in rows if r["address"] == "bob@example.org"]
    assert row["last_login"] == "2023-11-14T22:13:20+00:00"


def test_admins_list_shows_panel_last_login(world, client):
    world.superadmin.set_password("a-long-admin-password-1")
    world.superadmin.save()
    assert client.post(reverse("accounts:login"), {"username": "root", "password": "a-long-admin-password-1"}).status_code == 302
    world.superadmin.refresh_from_db()
    assert world.superadmin.last_login is not None
    page = client.get(reverse("accounts:admin-list")).content.decode()
    assert "Last login" in page and f'datetime="{world.superadmin.last_login.replace(tzinfo=None).isoformat(timespec="seconds")}' in page


def test_cli_sets_lists_and_switches_off(world, capsys):
    call_command("vacation", "set", "Bob@Example.org", "--subject", "Away", "--body", "Back soon", "--days", "2",
                 "--last-day", "2099-12-31", "--json")
    shown = json.loads(capsys.readouterr().out)
    assert shown["active"] and shown["days"] == 2 and shown["state"] == "on"
    call_command("vacation", "list", "--json", "--domain", "example.org")
    (row,) = json.loads(capsys.readouterr().out)
    assert row["address"] == "bob@example.org" and row["last_day"] == "2099-12-31" and row["body"] == "Back soon"
    call_command("vacation", "off", "bob@example.org")
    assert not Vacation.objects.get(mailbox=world.mailbox).active
    from django.core.management.base import CommandError
    with pytest.raises(CommandError, match="days"):
        call_command("vacation", "set", "bob@example.org", "--subject", "x", "--body", "y", "--days", "0")
    with pytest.raises(CommandError, match="not a date"):
        call_command("vacation", "set", "bob@example.org", "--subject", "x", "--body", "y", "--first-day", "soon")
