"""Control characters and bidi overrides are refused in every text field, at the form, the CLI
and the database; the CLI's tables escape anything non-printable (issue 11, item 8)."""
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Admin
from domains import services
from domains.forms import DomainForm, MailboxUpdateForm
from domains.models import Domain, Mailbox
from domains.text import printable
from tests.factories import AdminFactory, DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db

NASTY = ["\x1b[2J\x1b[H", "evil\r\nbob@fake.example  Fake Row", "tab\there", "a\x85next", "\u202eevil", "\u2066iso\u2069",
         "nul\x7f"]


@pytest.mark.parametrize("value", NASTY)
def test_the_forms_refuse_them(value):
    for form, field in ((DomainForm({"description": value, "max_mailboxes": 0, "max_aliases": 0, "quota_bytes": "0",
                                     "max_quota_bytes": "0", "default_quota_bytes": "0"}), "description"),
                        (MailboxUpdateForm({"name": value, "quota_bytes": "0"}), "name")):
        assert not form.is_valid()
        assert "control_character" in {e.code for e in form.errors.as_data()[field]}


@pytest.mark.parametrize("value", NASTY)
def test_the_services_refuse_them(value):
    domain = DomainFactory()
    with pytest.raises(ValidationError) as caught:
        services.mailbox_create(domain=domain, local_part="bob", password="pw-123456789", name=value,
                                acting_user=None)
    assert "control_character" in {e.code for e in caught.value.error_dict["name"]}
    with pytest.raises(ValidationError):
        services.domain_update(domain=domain, description=value, acting_user=None)
    with pytest.raises(ValidationError):
        services.domain_create(name="new.example", description=value, acting_user=None)


def test_a_domain_admin_posting_them_gets_a_form_error():
    domain = DomainFactory(name="tenant.example")
    mailbox = MailboxFactory(domain=domain, local_part="bob")
    client = Client()
    client.force_login(AdminFactory(domains=[domain]))
    response = client.post(reverse("domains:mailbox-update", args=[mailbox.pk]),
                           {"name": "x\x1b[2Jy", "quota_bytes": "0", "active": "on"})
    assert response.status_code == 200 and "U+001B" in response.content.decode()
    mailbox.refresh_from_db()
    assert "\x1b" not in mailbox.name


@pytest.mark.parametrize("table, column, row", [
    ("domain", "description", lambda: DomainFactory().pk),
    ("domain", "transport", lambda: DomainFactory().pk),
    ("mailbox", "name", lambda: MailboxFactory().pk),
    ("admin", "first_name", lambda: AdminFactory().pk),
    ("admin", "last_name", lambda: AdminFactory().pk),
])
@pytest.mark.parametrize("value", ["a\x1bb", "a\nb", "a\u202eb", "a\u2069b", "a\x9bb"])
def test_the_database_refuses_them(table, column, row, value):
    pk = row()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])


def test_the_database_accepts_ordinary_unicode():
    domain = DomainFactory(description="Café « Zoé » — 日本語, emoji 📫, Arabic مرحبا")
    domain.refresh_from_db()
    assert "📫" in domain.description


def test_the_cli_refuses_them_and_escapes_what_is_stored():
    call_command("domain", "add", "cli.example")
    with pytest.raises(CommandError, match="U\\+001B"):
        call_command("mailbox", "add", "bob@cli.example", "--name", "\x1b[2J", "--generate-password",
                     stdout=StringIO())
    # Rows stored before this release (or by hand) still print safely.
    domain = Domain.objects.get(name="cli.example")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE mailbox DROP CONSTRAINT mailbox_name_plain_text")
        cursor.execute("ALTER TABLE domain DROP CONSTRAINT domain_description_plain_text")
    MailboxFactory(domain=domain, local_part="eve", name="evil\r\nfake@cli.example\x1b[2J\u202e")
    Domain.objects.filter(pk=domain.pk).update(description="line\nbreak\x1b]0;title\x07")
    out = StringIO()
    call_command("mailbox", "list", "--domain", "cli.example", stdout=out)
    call_command("domain", "show", "cli.example", stdout=out)
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text and "\x07" not in text
    assert "evil\\x0d\\x0afake@cli.example\\x1b[2J\\u202e" in text
    assert len([line for line in text.splitlines() if "fake@cli.example" in line]) == 1


def test_printable_keeps_ordinary_text_and_escapes_the_rest():
    assert printable("Zoé 日本 📫") == "Zoé 日本 📫"
    assert printable("a\x1bb\\") == "a\\x1bb\\\\"
    assert printable(42) == "42"
