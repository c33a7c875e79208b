"""What the audit log shows instead of its stored codes: a label for every action and every
field, in the reader's language. Entries keep the codes (stable, filterable); the labels are
looked up when the page renders, so an entry reads in French for a French admin whatever the
language of whoever made the change."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "domain.create": _("Domain created"),
    "domain.update": _("Domain changed"),
    "domain.delete": _("Domain deleted"),
    "mailbox.create": _("Mailbox created"),
    "mailbox.update": _("Mailbox changed"),
    "mailbox.rename": _("Mailbox renamed"),
    "mailbox.password": _("Mailbox password set"),
    "mailbox.rehash": _("Mailbox password rehashed"),
    "mailbox.delete": _("Mailbox deleted"),
    "mailbox.import": _("Mailbox imported"),
    "vacation.set": _("Automatic reply set"),
    "vacation.off": _("Automatic reply switched off"),
    "forwarding.create": _("Forwarding set"),
    "forwarding.update": _("Forwarding changed"),
    "forwarding.delete": _("Forwarding removed"),
    "alias.create": _("Alias created"),
    "alias.update": _("Alias changed"),
    "alias.rename": _("Alias renamed"),
    "alias.delete": _("Alias deleted"),
    "alias.import": _("Alias imported"),
    "aliasdomain.create": _("Alias domain created"),
    "aliasdomain.update": _("Alias domain changed"),
    "aliasdomain.delete": _("Alias domain deleted"),
    "aliasdomain.request": _("Alias domain requested"),
    "aliasdomain.approve": _("Alias domain approved"),
    "admin.create": _("Administrator created"),
    "admin.update": _("Administrator changed"),
    "admin.password": _("Administrator password set"),
    "admin.delete": _("Administrator deleted"),
    "dkim.generate": _("DKIM key generated"),
    "dkim.rotate": _("DKIM key rotated"),
    "dkim.retire": _("DKIM key retired"),
    "dkim.export": _("DKIM keys exported"),
    "dns.check": _("DNS checked"),
    "twofactor.enable": _("Two-factor login turned on"),
    "twofactor.disable": _("Two-factor login turned off"),
    "twofactor.backup_codes": _("Two-factor backup codes renewed"),
    "apitoken.create": _("API token created"),
    "apitoken.revoke": _("API token revoked"),
    "import.postfixadmin": _("Imported from Postfixadmin"),
    # mailaccess
    "apppassword.create": _("App password created"),
    "apppassword.revoke": _("App password revoked"),
    "sendergrant.create": _("Send-as address granted"),
    "sendergrant.update": _("Send-as address renamed"),
    "sendergrant.delete": _("Send-as address withdrawn"),
}

# Kinds of object, for actions this table does not know yet (added by a later feature):
# "Mailbox: frobnicate" reads better than a bare code.
OBJECT_LABELS = {
    "domain": _("Domain"), "mailbox": _("Mailbox"), "forwarding": _("Forwarding"), "alias": _("Alias"),
    "aliasdomain": _("Alias domain"), "admin": _("Administrator"), "dkim": _("DKIM key"), "dns": _("DNS"),
    "twofactor": _("Two-factor login"), "apppassword": _("App password"), "sendergrant": _("Send-as grant"),
}

FIELD_LABELS = {
    "active": _("active"), "address": _("address"), "destinations": _("destinations"),
    "name": _("name"), "description": _("description"), "quota_bytes": _("quota"),
    "max_mailboxes": _("maximum mailboxes"), "max_aliases": _("maximum aliases"),
    "max_quota_bytes": _("maximum quota per mailbox"), "default_quota_bytes": _("default quota"),
    "backup_mx": _("backup MX"), "transport": _("transport"), "role": _("role"),
    "domains": _("domains"), "email": _("e-mail address"), "is_active": _("active"),
    "username": _("user name"), "local_part": _("address name"), "forwarding": _("forwarding"),
    "allow_external_forwarding": _("forwarding to other servers"), "deleted": _("deleted with it"),
    "first_name": _("first name"), "last_name": _("last name"), "maildir": _("maildir"),
    "password_changed": _("password changed"), "selector": _("selector"), "algorithm": _("algorithm"),
    "retired": _("retired"), "public_key": _("public key"), "status": _("status"),
    "duration_ms": _("duration (ms)"), "mailbox": _("mailbox"), "target": _("target domain"),
    "mailboxes": _("mailboxes"), "aliases": _("aliases"), "alias_domains": _("alias domains"),
    "keys": _("keys"), "count": _("count"), "scheme": _("password scheme"),
    "mx": _("MX"), "spf": _("SPF"), "dkim": _("DKIM"), "dmarc": _("DMARC"), "ptr": _("Reverse DNS (PTR)"),
    "mta_sts": _("MTA-STS"), "tls_rpt": _("TLS-RPT"), "approved": _("approved"),
    "protocols": _("protocols"),
}

# Django's own bookkeeping on the admin model, meaningless to a reader of the log.
HIDDEN_FIELDS = {"id", "is_staff", "is_superuser", "date_joined", "last_login", "list_page_size"}

# Stored values with a label of their own: roles, DNS check statuses, DKIM algorithms.
VALUE_LABELS = {
    "domain_admin": _("Domain admin"), "superadmin": _("Superadmin"),
    "ok": _("OK"), "warning": _("Warning"), "error": _("Error"), "unknown": _("Could not check"),
    "rsa-2048": _("RSA 2048 bits"), "ed25519": _("Ed25519"),
}
VALUE_LABEL_FIELDS = {"role", "status", "algorithm", "mx", "spf", "dkim", "dmarc", "ptr", "mta_sts", "tls_rpt"}


def action_label(action: str) -> str:
    """The action as a reader says it: "DKIM key generated" for dkim.generate."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    kind, _sep, verb = action.partition(".")
    if kind in OBJECT_LABELS:
        return f"{OBJECT_LABELS[kind]}: {verb.replace('_', ' ')}"
    return action.replace("_", " ").replace(".", " ")


def field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field.replace("_", " ")))
