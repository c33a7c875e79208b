"""CSV import and export of mailboxes and aliases: dry run, one transaction, passwords once,
the domain scope, and the same through `manage.py mailbox import` (issue 16)."""
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from audit.models import AuditEntry
from domains.importing import import_rows, read_rows
from domains.models import Alias, Domain, Mailbox
from domains.passwords import verify_argon2id
from tests.factories import MailboxFactory
from tests.roles import make_world

pytestmark = pytest.mark.django_db

GOOD = """type,address,name,quota,password,destinations,active
mailbox,anna@example.org,Anna,2G,,,yes
mailbox,ben@example.org,,,a long enough passphrase,,no
alias,team@example.org,,,,anna@example.org; ben@example.org,
"""


@pytest.fixture
def world():
    return make_world()


def upload(client, text, name="import.csv"):
    return client.post(reverse("domains:import"), {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def test_dry_run_shows_each_row_and_creates_nothing(world):
    client = world.client("domain_admin")
    response = upload(client, GOOD)
    body = response.content.decode()
    assert response.status_code == 200 and "all 3 rows can be imported" in body
    assert not Mailbox.objects.filter(address="anna@example.org").exists()
    assert not AuditEntry.objects.filter(action="mailbox.create").exists()
    assert 'name="csv_text"' in body


def test_commit_imports_in_one_go_and_returns_generated_passwords_once(world):
    client = world.client("domain_admin")
    response = client.post(reverse("domains:import"), {"commit": "1", "csv_text": GOOD})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    passwords = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [p["address"] for p in passwords] == ["anna@example.org"]  # ben's was given
    anna = Mailbox.objects.get(address="anna@example.org")
    assert verify_argon2id(anna.password, passwords[0]["password"])
    assert anna.quota_bytes == 2 * 1024**3 and anna.name == "Anna"
    assert not Mailbox.objects.get(address="ben@example.org").active
    assert Alias.objects.get(address="team@example.org").destinations == ["anna@example.org", "ben@example.org"]
    assert AuditEntry.objects.filter(action__in=["mailbox.create", "alias.create"]).count() == 3
    # The passwords are nowhere else: not in the audit log.
    assert passwords[0]["password"] not in str(list(AuditEntry.objects.values_list("after", flat=True)))


def test_one_bad_row_means_nothing_is_imported_and_each_error_is_shown(world):
    text = GOOD + "mailbox,anna@example.org,dup,,,,\nalias,x@other.example,,,,a@b.example,\nwidget,y@example.org,,,,,\n"
    client = world.client("domain_admin")
    body = upload(client, text).content.decode()
    assert "3 rows cannot be imported" in body
    assert "already a mailbox" in body
    assert "other.example is not one of your domains." in body  # another admin's domain: same answer
    assert "The type must be mailbox or alias." in body
    response = client.post(reverse("domains:import"), {"commit": "1", "csv_text": text})
    assert response.status_code == 200 and "cannot be imported" in response.content.decode()
    assert not Mailbox.objects.filter(address__in=["anna@example.org", "ben@example.org"]).exists()


def test_limits_hold_during_an_import(world):
    world.domain.max_mailboxes = 2  # bob exists already
    world.domain.save()
    body = upload(world.client("domain_admin"), GOOD).content.decode()
    assert "Mailbox limit reached" in body


def test_bad_header_and_weak_password_are_reported(world):
    client = world.client("domain_admin")
    assert "The first line must name the columns" in upload(client, "address\nx@example.org\n").content.decode()
    weak = "type,address,password\nmailbox,weak@example.org,123\n"
    assert "This password is too short" in upload(client, weak).content.decode()


def test_export_round_trips_through_import(world):
    MailboxFactory(domain=world.domain, local_part="carla", quota_bytes=3 * 1024**3)
    client = world.client("domain_admin")
    exported = b"".join(client.get(reverse("domains:export")).streaming_content).decode()
    assert exported.startswith("type,address,name,quota,password,destinations,active")
    assert "mailbox,carla@example.org,,3G,,,yes" in exported
    assert "other.example" not in exported
    Mailbox.objects.filter(local_part="carla").delete()
    renamed = exported.replace("bob@example.org", "bob2@example.org")
    client.post(reverse("domains:import"), {"commit": "1", "csv_text": renamed})
    assert Mailbox.objects.get(address="carla@example.org").quota_bytes == 3 * 1024**3


def test_cli_import_dry_run_then_commit(world, tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text(GOOD)
    call_command("mailbox", "import", str(path), "--dry-run")
    assert "dry run: all 3 rows can be imported" in capsys.readouterr().out
    assert not Mailbox.objects.filter(address="anna@example.org").exists()
    out = tmp_path / "passwords.csv"
    call_command("mailbox", "import", str(path), "--passwords-out", str(out))
    assert (out.stat().st_mode & 0o777) == 0o600
    assert out.read_text().splitlines()[:1] == ["address,password"] and "anna@example.org," in out.read_text()
    assert Mailbox.objects.filter(address="anna@example.org").exists()
    with pytest.raises(CommandError, match="3 of 3 rows refused"):
        call_command("mailbox", "import", str(path), "--dry-run")


def test_export_neutralises_formulas_and_the_import_takes_them_back(world):
    """A tenant-chosen name like =HYPERLINK(...) runs in the spreadsheet of whoever opens the
    export (OWASP "CSV Injection"): the cell gets an apostrophe, which the import removes (review-ui)."""
    formula = '=HYPERLINK("http://evil.example/","x")'
    MailboxFactory(domain=world.domain, local_part="carla", name=formula)
    client = world.client("domain_admin")
    exported = b"".join(client.get(reverse("domains:export")).streaming_content).decode()
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]
    assert "'" + formula in cells
    Mailbox.objects.filter(local_part="carla").delete()
    client.post(reverse("domains:import"), {"commit": "1", "csv_text": exported.replace("bob@example.org", "b2@example.org")})
    assert Mailbox.objects.get(address="carla@example.org").name == formula


def test_batch_keeps_every_rule_row_by_row_in_file_order(world):
    """The batch path judges each row against the rows before it, as the services would one by
    one: a duplicate inside the file, a loop made by two new aliases, a catch-all twice."""
    text = ("type,address,name,quota,password,destinations,active\n"
            "mailbox,dup@example.org,,,,,\n"
            "mailbox,dup@example.org,,,,,\n"
            "alias,loop-a@example.org,,,,loop-b@example.org,\n"
            "alias,loop-b@example.org,,,,loop-a@example.org,\n"
            "alias,@example.org,,,,dup@example.org,\n"
            "alias,@example.org,,,,dup@example.org,\n"
            "alias,dup@example.org,,,,bob@example.org,\n")
    result = import_rows(read_rows(text), acting_user=None, domain_scope=Domain.objects.all(), dry_run=True)
    verdicts = [(r.ok, r.error) for r in result.rows]
    assert verdicts[0] == (True, "") and "already a mailbox" in verdicts[1][1]
    assert "loop" in verdicts[2][1] and "loop" in verdicts[3][1]
    assert verdicts[4] == (True, "") and "already has a catch-all" in verdicts[5][1]
    assert "is a mailbox" in verdicts[6][1]
    assert not Mailbox.objects.filter(address="dup@example.org").exists()


def test_batch_reads_and_writes_in_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    """200 rows or 20: the same few queries (the per-row path made about 12 per row)."""
    lines = ["type,address,name,quota,password,destinations,active"]
    lines += [f"mailbox,user{n}@example.org,User {n},1G,a long enough passphrase {n},,yes" for n in range(100)]
    lines += [f"alias,list{n}@example.org,,,,user{n}@example.org,yes" for n in range(100)]
    rows = read_rows("\n".join(lines) + "\n")
    with django_assert_max_num_queries(40):
        result = import_rows(rows, acting_user=None, domain_scope=Domain.objects.all(), dry_run=False)
    assert result.committed
    assert AuditEntry.objects.filter(action="mailbox.create").count() == 100
    assert AuditEntry.objects.filter(action="alias.create", domain_id=world.domain.pk).count() == 100
    assert Mailbox.objects.get(address="user7@example.org").usage.bytes == 0  # the usage row exists


def test_batch_quota_and_limits_count_the_rows_before(world):
    allocated = sum(Mailbox.objects.filter(domain=world.domain).values_list("quota_bytes", flat=True))
    world.domain.quota_bytes = allocated + 2 * 1024**3
    world.domain.default_quota_bytes = 1024**3
    world.domain.max_aliases = 1
    world.domain.save()
    text = ("type,address,name,quota,password,destinations,active\n"
            "mailbox,q1@example.org,,1G,,,\nmailbox,q2@example.org,,1G,,,\nmailbox,q3@example.org,,1G,,,\n"
            "alias,a1@example.org,,,,q1@example.org,\nalias,a2@example.org,,,,q1@example.org,\n")
    rows = import_rows(read_rows(text), acting_user=None, domain_scope=Domain.objects.all(), dry_run=True).rows
    # Two more gigabytes fit, the third does not.
    assert [r.ok for r in rows] == [True, True, False, True, False]
    assert "Domain quota exceeded" in rows[2].error and "Alias limit reached" in rows[4].error


@override_settings(MAILADMIN_IMPORT_WEB_MAX_ROWS=2)
def test_web_upload_is_capped_and_points_to_the_cli(world):
    client = world.client("domain_admin")
    body = upload(client, GOOD).content.decode()
    assert "the panel imports at most 2 per upload" in body and "manage.py mailbox import" in body
    response = client.post(reverse("domains:import"), {"commit": "1", "csv_text": GOOD})
    assert "at most 2 per upload" in response.content.decode()
    assert not Mailbox.objects.filter(address="anna@example.org").exists()


def test_dry_run_table_speaks_french(world):
    client = world.client("domain_admin")
    client.post("/i18n/setlang/", {"language": "fr", "next": "/import/"})
    body = upload(client, GOOD).content.decode()
    assert "<td>boîte aux lettres</td>" in body and "<td>alias</td>" in body
    assert "<td>mailbox</td>" not in body
