"""A renamed mailbox's vacation reply speaks for its new address, never for the old one (which
another mailbox or alias may be given next)."""
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
