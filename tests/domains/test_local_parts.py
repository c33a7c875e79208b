"""Only the local parts the mail stack serves are accepted: at the form, the CLI and the database.

The set (docs/mailstack.md, "Address names"): lower-case letters, digits, ".", "-", "_", not
starting with "-" or ".", no double or trailing dot; the recipient delimiter ("+") never. The
round trip through Postfix and Dovecot is tests/mailstack/test_local_parts.py.
"""
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from domains import services
from domains.addresses import normalize_address, normalize_local_part
from domains.forms import MailboxCreateForm

pytestmark = pytest.mark.django_db

# Each refused character, in the middle of a name, and the refused shapes.
REFUSED_CHARACTERS = list("%'!|{}\\+=#$&*/?^`~")
REFUSED = [f"a{c}b" for c in REFUSED_CHARACTERS] + ["-john", ".john", "john.", "jo..hn"]


@pytest.mark.parametrize("local_part", REFUSED)
def test_unserved_local_parts_are_refused_by_the_rule(local_part):
    with pytest.raises(ValidationError) as exc:
        normalize_local_part(local_part)
    assert exc.value.code in {"local_part_unserved", "local_part_delimiter", "local_part_invalid"}


def test_the_delimiter_is_refused_with_its_own_message(settings):
    with pytest.raises(ValidationError) as exc:
        normalize_local_part("bob+shop")
    assert exc.value.code == "local_part_delimiter"
    settings.MAILADMIN_RECIPIENT_DELIMITER = "-"
    with pytest.raises(ValidationError) as exc:
        normalize_local_part("mary-ann")
    assert exc.value.code == "local_part_delimiter"
    settings.MAILADMIN_RECIPIENT_DELIMITER = ""
    assert normalize_local_part("mary-ann") == "mary-ann"


def test_destinations_elsewhere_keep_the_full_rfc_5322_set():
    # Forwarding to someone else's server: their local parts are theirs to define.
    assert normalize_address("O'Brien+news@Elsewhere.example") == "o'brien+news@elsewhere.example"


def test_form_refuses_an_unserved_local_part():
    form = MailboxCreateForm(data={"local_part": "o'brien", "generate_password": "on", "active": "on"})
    assert not form.is_valid()
    assert form.errors.as_data()["local_part"][0].code == "local_part_unserved"


def test_cli_refuses_an_unserved_local_part(domain):
    with pytest.raises(CommandError, match="cannot be served"):
        call_command("mailbox", "add", "a%b@example.org", "--generate-password")
    with pytest.raises(CommandError, match="recipient delimiter"):
        call_command("alias", "add", "sales+x@example.org", "john@elsewhere.example")


def test_services_refuse_and_keep_nothing(domain):
    with pytest.raises(ValidationError):
        services.mailbox_create(domain=domain, local_part="a|b", password="long-enough-password",
                                acting_user=None)
    with pytest.raises(ValidationError):
        services.alias_create(domain=domain, local_part="a{b", destinations=["x@elsewhere.example"],
                              acting_user=None)
    assert not domain.mailboxes.exists() and not domain.aliases.exists()


@pytest.mark.parametrize("local_part", ["a'b", "-john", "a+b", "a%b"])
def test_database_refuses_what_the_stack_cannot_serve(domain, local_part):
    mailbox = services.mailbox_create(domain=domain, local_part="john", password="long-enough-password",
                                      acting_user=None)
    alias = services.alias_create(domain=domain, local_part="team", destinations=["john@example.org"],
                                  acting_user=None)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE mailbox SET local_part = %s, address = %s WHERE id = %s",
                       [local_part, f"{local_part}@example.org", mailbox.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE alias SET address = %s WHERE id = %s", [f"{local_part}@example.org", alias.pk])
