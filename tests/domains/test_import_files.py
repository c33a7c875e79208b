"""Malformed CSV files for the import (domains/importing.py): each gets a clear error at the
page or the CLI, never a server error, and a generated password is never lost (review-import)."""
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from domains.models import Mailbox
from tests.roles import make_world

pytestmark = pytest.mark.django_db

HEADER = "type,address,name,quota,password,destinations,active\n"


@pytest.fixture
def world():
    return make_world()


def upload(client, text):
    return client.post(reverse("domains:import"), {"file": SimpleUploadedFile("in.csv", text.encode(), "text/csv")})


def test_a_cell_past_the_csv_field_limit_is_a_form_error_not_a_server_error(world):
    # Python's csv refuses a field over 131,072 characters with csv.Error.
    response = upload(world.client("domain_admin"), HEADER + 'mailbox,anna@example.org,"' + "x" * 200_000 + '",,,,\n')
    assert response.status_code == 200
    assert "line 2" in response.content.decode()
    assert not Mailbox.objects.filter(address="anna@example.org").exists()


def test_a_column_named_twice_is_refused(world):
    # csv.DictReader keeps the last of two same-named columns: the first would be dropped unseen.
    response = upload(world.client("domain_admin"),
                      "type,address,password,password\nmailbox,anna@example.org,one long passphrase,\n")
    assert response.status_code == 200
    assert "password" in response.content.decode() and "twice" in response.content.decode()
    assert not Mailbox.objects.filter(address="anna@example.org").exists()


def test_a_semicolon_file_as_french_spreadsheets_write_it_is_read(world):
    client = world.client("domain_admin")
    text = HEADER.replace(",", ";") + "mailbox;anna@example.org;Anna;1G;;;yes\n"
    client.post(reverse("domains:import"), {"commit": "1", "csv_text": text})
    assert Mailbox.objects.get(address="anna@example.org").quota_bytes == 1024**3


def test_cli_file_not_utf8_is_a_command_error(world, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "mailbox,anna@example.org,Anaïs,,,,\n").encode("latin-1"))
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("mailbox", "import", str(path))


def test_cli_passwords_out_unwritable_creates_nothing(world, tmp_path):
    """The generated passwords exist only in memory until written: an unwritable file, found
    after the commit, would leave mailboxes whose passwords nobody has."""
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "mailbox,anna@example.org,Anna,,,,\n")
    with pytest.raises(CommandError):
        call_command("mailbox", "import", str(path), "--passwords-out", str(tmp_path / "missing" / "p.csv"))
    assert not Mailbox.objects.filter(address="anna@example.org").exists()


def test_cli_passwords_out_over_an_existing_file_is_made_private(world, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "mailbox,anna@example.org,Anna,,,,\n")
    out = tmp_path / "p.csv"
    out.write_text("old")
    os.chmod(out, 0o644)
    call_command("mailbox", "import", str(path), "--passwords-out", str(out))
    assert (out.stat().st_mode & 0o777) == 0o600
    assert "anna@example.org," in out.read_text()

