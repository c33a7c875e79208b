"""Ending sessions: admins (Admin.session_version, part of Django's session auth hash) and
mail users (MailboxSessionVersion, part of the /me/ session fingerprint).

Raising a version invalidates every session of the account at its next request, whichever
worker or session store holds it; nothing enumerates session rows.
"""
from __future__ import annotations

from django.db import connection
from django.db.models import F

from domains.models import Domain, Mailbox

from .models import Admin, MailboxSessionVersion


def end_admin_sessions(*, admin: Admin) -> None:
    """End every session of `admin` (call inside the transaction that changes the account)."""
    Admin.objects.filter(pk=admin.pk).update(session_version=F("session_version") + 1)
    admin.refresh_from_db(fields=["session_version"])


def end_mailbox_sessions(*, mailbox: Mailbox | None = None, domain: Domain | None = None) -> None:
    """End the /me/ sessions of one mailbox, or of every mailbox of `domain` (one statement)."""
    where, param = ("id = %s", mailbox.pk) if mailbox is not None else ("domain_id = %s", domain.pk)
    table, mailboxes = MailboxSessionVersion._meta.db_table, Mailbox._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (mailbox_id, version) SELECT id, 1 FROM {mailboxes} WHERE {where} "
            f"ON CONFLICT (mailbox_id) DO UPDATE SET version = {table}.version + 1", [param])


def mailbox_session_version(mailbox: Mailbox) -> int:
    return (MailboxSessionVersion.objects.filter(mailbox_id=mailbox.pk)
            .values_list("version", flat=True).first() or 0)
