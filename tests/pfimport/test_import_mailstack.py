"""After an import from Postfixadmin, the real Postfix and Dovecot serve the imported data:
users log in with their old passwords (every hash scheme, as doveadm made them), mail reaches
imported mailboxes (in their old maildirs), aliases, catch-alls and alias domains."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from .pfa import SCHEMES, mariadb_source, password_for, rows

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def test_imported_data_passes_the_mail_stack_contract(mail_stack):
    tables, data = rows("2.9", domains=2, mailboxes_per_domain=len(SCHEMES))
    with mariadb_source("2.9", tables) as url:
        call_command("import_postfixadmin", url, stdout=io.StringIO())

    # Dovecot accepts each old password, whatever scheme Postfixadmin stored it in.
    for address, scheme in data.mailboxes.items():
        if address.endswith("@pfa1.example"):
            assert mail_stack.auth_test(address, password_for(scheme)), (address, scheme)
            assert not mail_stack.auth_test(address, "wrong password"), address
    assert mail_stack.imap_login("user0@pfa1.example", password_for(SCHEMES[0][0]))

    # Delivery into the kept maildir, through an alias, the catch-all and the alias domain.
    mail_stack.send("user3@pfa0.example", subject="direct")
    mail_stack.send("sales@pfa0.example", subject="alias")             # -> user0, user1
    mail_stack.send("nobody@pfa0.example", subject="catch-all")        # -> user2
    mail_stack.send("user4@pfa-alias.example", subject="alias domain")  # -> user4@pfa0.example
    assert mail_stack.wait_for_mail("user3@pfa0.example", 1)
    assert mail_stack.maildir("user3@pfa0.example").parts[-3:-1] == ("pfa0.example", "user3")
    assert mail_stack.wait_for_mail("user0@pfa0.example", 1)
    assert mail_stack.wait_for_mail("user1@pfa0.example", 1)
    assert mail_stack.wait_for_mail("user2@pfa0.example", 1)
    assert mail_stack.wait_for_mail("user4@pfa0.example", 1)
