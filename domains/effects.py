"""What turning something off does to mail, in words an admin can weigh before confirming.

Deactivating a domain, a mailbox, an alias or an alias domain makes Postfix refuse mail
it used to accept (docs/mailstack.md: the maps select active rows only), so the panel asks
first and says how much is affected.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Alias, AliasDomain, Domain, Mailbox


def _domain_counts(domain: Domain) -> tuple[int, int]:
    # The list rows carry the counts already (selectors.domain_list); a bare domain is counted.
    mailboxes = getattr(domain, "mailbox_count", None)
    aliases = getattr(domain, "alias_count", None)
    if mailboxes is None:
        mailboxes = domain.mailboxes.count()
    if aliases is None:
        aliases = domain.aliases.filter(mailbox__isnull=True).count()
    return mailboxes, aliases


def deactivation_warning(obj: Domain | Mailbox | Alias | AliasDomain) -> str:
    """One or two sentences: what stops when `obj` is deactivated, with counts."""
    if isinstance(obj, Domain):
        mailboxes, aliases = _domain_counts(obj)
        counted = (ngettext("%(count)d mailbox", "%(count)d mailboxes", mailboxes) % {"count": mailboxes},
                   ngettext("%(count)d alias", "%(count)d aliases", aliases) % {"count": aliases})
        return _("Deactivating %(domain)s stops all its mail: %(mailboxes)s and %(aliases)s stop receiving, "
                 "and its users can no longer log in.") % {
            "domain": obj.display_name, "mailboxes": counted[0], "aliases": counted[1]}
    if isinstance(obj, Mailbox):
        return _("Deactivating %(address)s refuses its incoming mail and stops its logins "
                 "(IMAP, POP3 and sending).") % {"address": obj.display_address}
    if isinstance(obj, Alias):
        count = len(obj.destinations)
        return ngettext("Deactivating %(address)s refuses the mail sent to it, which now reaches "
                        "%(count)d address.",
                        "Deactivating %(address)s refuses the mail sent to it, which now reaches "
                        "%(count)d addresses.", count) % {"address": obj.display_address, "count": count}
    if isinstance(obj, AliasDomain):
        return _("Deactivating %(name)s refuses every address at %(name)s (mail for %(target)s itself "
                 "is not affected).") % {"name": obj.display_name, "target": obj.target.display_name}
    raise TypeError(f"nothing to say about deactivating {type(obj).__name__}")
