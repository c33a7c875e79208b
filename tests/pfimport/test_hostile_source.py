"""A hostile (or sloppy) Postfixadmin source must not land anything the panel would refuse:
above all, no imported mailbox may share another mailbox's Dovecot home."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from domains import services
from domains.models import Mailbox
from pfimport.plan import Source, SourceDomain, SourceMailbox, build_plan
from pfimport.services import apply_plan
from tests.factories import DomainFactory, MailboxFactory, SuperadminFactory

pytestmark = pytest.mark.django_db


def _mailbox(address: str, maildir: str) -> SourceMailbox:
    local, _, domain = address.partition("@")
    return SourceMailbox(username=address, password="$6$s$h", name="", maildir=maildir, quota=0,
                         local_part=local, domain=domain)


@pytest.mark.parametrize("spelling", ["b.example/victim", "./b.example/victim/", "b.example//victim/",
                                      "b.example/./victim/"])
def test_imported_maildir_cannot_alias_an_existing_mailbox(spelling):
    """Another spelling of an existing maildir is the same directory: refused, reported."""
    MailboxFactory(domain=DomainFactory(name="b.example"), local_part="victim", maildir="b.example/victim/")
    source = Source(version="x", domains=[SourceDomain("imp.example")],
                    mailboxes=[_mailbox("evil@imp.example", spelling), _mailbox("ok@imp.example", "")])
    result = apply_plan(build_plan(source), source_label="test", acting_user=SuperadminFactory())
    assert not Mailbox.objects.filter(address="evil@imp.example").exists()
    assert "evil@imp.example" in {p.key for p in result.problems if p.kind == "mailbox"}
    assert Mailbox.objects.get(address="ok@imp.example").maildir == "imp.example/ok/"


@pytest.mark.parametrize("maildir", ["imp.example/e\n/", "imp.example/\x7f/", ".", "a..b/"])
def test_maildir_with_control_characters_or_no_path_is_refused(maildir):
    domain = DomainFactory(name="imp.example")
    with pytest.raises(ValidationError) as exc:
        services.mailbox_create(domain=domain, local_part="e", password="", password_hash="{SHA512-CRYPT}$6$s$h",
                                maildir=maildir, acting_user=None)
    assert exc.value.error_dict["maildir"][0].code == "maildir_invalid"


def test_maildir_is_stored_in_its_canonical_spelling():
    domain = DomainFactory(name="imp.example")
    mailbox = services.mailbox_create(domain=domain, local_part="e", password="", acting_user=None,
                                      password_hash="{SHA512-CRYPT}$6$s$h", maildir="imp.example//e")
    assert mailbox.maildir == "imp.example/e/"
