"""What the vacation service itself must hold, whoever calls it: a renamed mailbox's reply speaks
for its new address, never for the old one (which another mailbox or alias may be given next);
text the forms refuse is refused, with a clear error, from the CLI too."""
import pytest
from django.db import connection

from domains import services
from tests.roles import make_world
from vacation import services as vacation_services

pytestmark = pytest.mark.django_db


def served_script(address: str) -> str | None:
    # What Dovecot's Sieve dict reads (domains/mailstack.py SIEVE_DATA_QUERY's view).
    with connection.cursor() as cursor:
        cursor.execute("SELECT script FROM vacation_sieve WHERE username = %s", [address])
        row = cursor.fetchone()
    return row[0] if row else None


def test_rename_moves_the_replys_from_to_the_new_address():
    world = make_world()
    vacation_services.vacation_set(mailbox=world.mailbox, active=True, subject="Away", body="Back soon.",
                                   acting_user=None)
    assert ':from "bob@example.org"' in served_script("bob@example.org")
    services.mailbox_rename(mailbox=world.mailbox, local_part="robert", acting_user=None)
    script = served_script("robert@example.org")
    assert ':from "robert@example.org"' in script and "bob@example.org" not in script
    # The freed name taken by someone else: nothing still answers as them.
    services.mailbox_create(domain=world.domain, local_part="bob", password="another-password-1", acting_user=None)
    assert served_script("bob@example.org") is None


@pytest.mark.parametrize("option, value", [
    ("--body", "away\x00back"),          # NUL: PostgreSQL cannot hold it, Sieve neither
    ("--body", "away \udcff back"),      # a non-UTF-8 byte in the argument (surrogateescape)
    ("--subject", "away \udcff"),
    ("--body", "x" * 10_001),            # TextField's max_length binds forms only
])
def test_cli_refuses_text_the_form_refuses_with_a_clear_error(option, value):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    make_world()
    args = {"--subject": "Away", "--body": "Back soon.", option: value}
    with pytest.raises(CommandError):
        call_command("vacation", "set", "bob@example.org", *[x for pair in args.items() for x in pair])
    assert not vacation_services.Vacation.objects.exists()
