"""Reads for app passwords and send-as rights, scoped by who asks."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import F, QuerySet
from django.http import Http404

from domains.addresses import address_display
from domains.models import Mailbox

from .models import AppPassword, SenderGrant


def app_passwords_of(mailbox: Mailbox) -> QuerySet[AppPassword]:
    """Every app password of `mailbox`, active first, newest first."""
    return AppPassword.objects.filter(mailbox=mailbox).order_by(F("revoked").desc(nulls_first=True),
                                                                 "-created", "-id")


def sender_grants_of(mailbox: Mailbox) -> QuerySet[SenderGrant]:
    return SenderGrant.objects.filter(mailbox=mailbox).order_by("address")


def get_app_password(mailbox: Mailbox, pk) -> AppPassword:
    """`mailbox`'s app password `pk` (the mailbox is already authorized); Http404 otherwise."""
    try:
        return AppPassword.objects.get(mailbox=mailbox, pk=pk)
    except (AppPassword.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_sender_grant(mailbox: Mailbox, pk) -> SenderGrant:
    try:
        return SenderGrant.objects.get(mailbox=mailbox, pk=pk)
    except (SenderGrant.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class SendAs:
    address: str
    reason: str     # mailbox | alias | alias_domain | grant
    via: str = ""   # the alias or grant address it comes from, for alias_domain forms

    @property
    def display_address(self) -> str:
        return address_display(self.address)

    @property
    def display_via(self) -> str:
        return address_display(self.via) if self.via else ""


# The addresses smtpd_sender_login_maps (domains/mailstack.py) lets `mailbox` use, by reason:
# its own address, the active plain aliases that name it, its grants, and each of these in the
# active alias domains of a live domain. One query; served by the GIN index on destinations.
_SEND_AS_SQL = """
WITH own AS (
  SELECT m.address, 'mailbox' AS reason FROM mailbox m JOIN domain d ON d.id = m.domain_id
   WHERE m.id = %(id)s AND m.active AND d.active AND NOT d.backup_mx
  UNION ALL
  SELECT a.address, 'alias' FROM alias a JOIN domain ad ON ad.id = a.domain_id
   WHERE a.destinations @> ARRAY[%(address)s]::varchar[] AND a.active AND a.mailbox_id IS NULL
     AND a.address NOT LIKE '@%%' AND ad.active AND NOT ad.backup_mx
  UNION ALL
  SELECT g.address, 'grant' FROM sender_grant g WHERE g.mailbox_id = %(id)s
)
SELECT address, reason, '' FROM own
UNION ALL
SELECT split_part(own.address, '@', 1) || '@' || x.name, 'alias_domain', own.address FROM own
  JOIN domain d ON d.name = split_part(own.address, '@', 2) AND d.active AND NOT d.backup_mx
  JOIN alias_domain x ON x.target_id = d.id AND x.active
"""


def send_as_addresses(mailbox: Mailbox) -> list[SendAs]:
    """Every address `mailbox` may use as envelope sender on the submission port, with why.
    Empty when the mailbox or its domain is inactive (Postfix then answers no owner)."""
    if not (mailbox.active and mailbox.domain.active and not mailbox.domain.backup_mx):
        return []
    with connection.cursor() as cursor:
        cursor.execute(_SEND_AS_SQL, {"id": mailbox.pk, "address": mailbox.address})
        rows = cursor.fetchall()
    found = [SendAs(address, reason, via) for address, reason, via in rows]
    order = {"mailbox": 0, "alias": 1, "grant": 2, "alias_domain": 3}
    return sorted(dict.fromkeys(found), key=lambda s: (order[s.reason], s.address))
