"""What turning something off does to mail, in words an admin can weigh before confirming.

Deactivating a domain, a mailbox, an alias or an alias domain makes Postfix refuse mail
it used to accept (docs/mailstack.md: the maps select active rows only), so the panel asks
first and says how much is affected.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import Alias, AliasDomain, Domain, Mailbox

# Also said in every active row of the mailbox table (templatetags/table_rows.py).
MAILBOX_DEACTIVATION = gettext_lazy("Deactivating %(address)s refuses its incoming mail and stops its logins "
                                    "(IMAP, POP3 and sending).")


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
        return str(MAILBOX_DEACTIVATION) % {"address": obj.display_address}
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


def bulk_deactivation_warning(kind: str, rows) -> str:
    """What stops when every row of `rows` (a queryset of `kind`, as domains/bulk.py names
    kinds) is deactivated at once: which mail is refused and who can no longer log in, counted."""
    count = rows.count()
    if kind == "mailbox":
        return ngettext(
            "Mail to this %(count)d address will be refused (senders get “550 5.2.1 Mailbox disabled”), "
            "and its user can no longer log in (IMAP, POP3, sending, this panel).",
            "Mail to these %(count)d addresses will be refused (senders get “550 5.2.1 Mailbox disabled”), "
            "and their users can no longer log in (IMAP, POP3, sending, this panel).", count) % {"count": count}
    if kind == "alias":
        return ngettext(
            "Mail to this %(count)d address will be refused; the mailboxes it delivers to keep receiving "
            "their own mail.",
            "Mail to these %(count)d addresses will be refused; the mailboxes they deliver to keep receiving "
            "their own mail.", count) % {"count": count}
    if kind == "domain":
        mailboxes = Mailbox.objects.filter(domain__in=rows.values("pk")).count()
        aliases = Alias.objects.filter(domain__in=rows.values("pk"), mailbox__isnull=True).count()
        return ngettext(
            "Mail to every address of this domain will be refused: %(mailboxes)s and %(aliases)s stop "
            "receiving, and their users can no longer log in.",
            "Mail to every address of these %(count)d domains will be refused: %(mailboxes)s and "
            "%(aliases)s stop receiving, and their users can no longer log in.", count) % {
            "count": count,
            "mailboxes": ngettext("%(count)d mailbox", "%(count)d mailboxes", mailboxes) % {"count": mailboxes},
            "aliases": ngettext("%(count)d alias", "%(count)d aliases", aliases) % {"count": aliases}}
    if kind == "aliasdomain":
        return ngettext(
            "Mail to every address at this alias domain will be refused; its target domain keeps receiving.",
            "Mail to every address at these %(count)d alias domains will be refused; their target domains "
            "keep receiving.", count) % {"count": count}
    if kind == "admin":
        return ngettext("This administrator can no longer log in to the panel; no mail is affected.",
                        "These %(count)d administrators can no longer log in to the panel; no mail is affected.",
                        count) % {"count": count}
    raise ValueError(f"no bulk deactivation for {kind}")
