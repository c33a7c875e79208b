"""The mail schema: the tables Postfix and Dovecot read directly (see docs/schema.md).

Table and column names are a public contract: the SQL in domains/mailstack.py and the
configuration that Postfix and Dovecot run depend on them. Rename nothing lightly.
"""
from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Lower, Upper
from django.utils.translation import gettext_lazy as _

from .addresses import DOMAIN_NAME_SQL_RE, SERVED_LOCAL_PART_SQL_RE, domain_display, address_display
from .text import plain_text_constraint, validate_plain_text

# Our mailboxes' and aliases' names: only what Postfix and Dovecot serve (see addresses.py).
LOCAL_PART_SQL_RE = SERVED_LOCAL_PART_SQL_RE
ALIAS_ADDRESS_SQL_RE = "^(" + SERVED_LOCAL_PART_SQL_RE.strip("^$") + ")?@"


class Domain(models.Model):
    """A mail domain the server accepts mail for (or relays, as a backup MX)."""

    name = models.CharField(_("domain name"), max_length=253, unique=True,
                            error_messages={"unique": _("This domain already exists.")})
    description = models.CharField(_("description"), max_length=255, blank=True,
                                   validators=[validate_plain_text])
    active = models.BooleanField(_("active"), default=True)
    backup_mx = models.BooleanField(
        _("backup MX"), default=False,
        help_text=_("Relay mail for this domain to its primary MX instead of delivering it here."),
    )
    transport = models.CharField(
        _("transport"), max_length=255, blank=True, validators=[validate_plain_text],
        help_text=_("Postfix transport for this domain, e.g. lmtp:unix:private/dovecot-lmtp or "
                    "relay:[mx.example.org]; empty for the server default."),
    )
    max_mailboxes = models.PositiveIntegerField(_("maximum mailboxes"), default=0,
                                                help_text=_("0 = unlimited"))
    max_aliases = models.PositiveIntegerField(_("maximum aliases"), default=0,
                                              help_text=_("0 = unlimited"))
    max_quota_bytes = models.BigIntegerField(_("maximum quota per mailbox"), default=0,
                                             help_text=_("0 = unlimited"))
    quota_bytes = models.BigIntegerField(_("total quota of the domain"), default=0,
                                         help_text=_("0 = unlimited"))
    default_quota_bytes = models.BigIntegerField(_("default mailbox quota"), default=0,
                                                 help_text=_("0 = unlimited"))
    allow_external_forwarding = models.BooleanField(
        _("allow forwarding to other domains"), default=True,
        help_text=_("Whether mail users may forward their mail to addresses outside the server."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    modified = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        db_table = "domain"
        ordering = ["name"]
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        constraints = [
            models.CheckConstraint(condition=Q(name__regex=DOMAIN_NAME_SQL_RE),
                                   name="domain_name_lower_ascii"),
            models.CheckConstraint(condition=Q(max_quota_bytes__gte=0), name="domain_max_quota_gte_0"),
            models.CheckConstraint(condition=Q(quota_bytes__gte=0), name="domain_quota_gte_0"),
            models.CheckConstraint(condition=Q(default_quota_bytes__gte=0),
                                   name="domain_default_quota_gte_0"),
            models.CheckConstraint(condition=plain_text_constraint("description"),
                                   name="domain_description_plain_text"),
            models.CheckConstraint(condition=plain_text_constraint("transport"),
                                   name="domain_transport_plain_text"),
        ]
        indexes = [
            # fastupdate=False on every GIN index here: with PostgreSQL's default, rows written
            # since the last vacuum wait in an unsorted pending list that each search scans,
            # and a bulk import made a 1 ms search take 15 ms until autovacuum came by.
            # Writes are rare next to searches and lookups, so they pay for the index instead.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="domain_name_trgm", fastupdate=False),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return domain_display(self.name)


class Mailbox(models.Model):
    """A mailbox: a login for Dovecot and a final destination for Postfix."""

    # Indexed by mailbox_domain_covering below, not by a plain FK index.
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="mailboxes",
                               verbose_name=_("domain"), db_index=False)
    local_part = models.CharField(_("address name"), max_length=64)
    address = models.CharField(_("address"), max_length=320, unique=True,
                               error_messages={"unique": _("This mailbox already exists.")})
    name = models.CharField(_("display name"), max_length=255, blank=True, validators=[validate_plain_text])
    password = models.CharField(_("password hash"), max_length=255)
    quota_bytes = models.BigIntegerField(_("quota"), default=0, help_text=_("0 = unlimited"))
    maildir = models.CharField(_("maildir"), max_length=400, unique=True)
    active = models.BooleanField(_("active"), default=True)
    password_changed = models.DateTimeField(_("password changed"), null=True, blank=True)
    # Copied from last_login (Dovecot's writes) by the trigger last_login_to_mailbox, so the lists
    # sort and filter on an index of this table (migration 0007); NULL = no login recorded.
    last_login_at = models.DateTimeField(_("last login"), null=True, blank=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    modified = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        db_table = "mailbox"
        ordering = ["address"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        constraints = [
            models.UniqueConstraint(fields=["domain", "local_part"], name="mailbox_unique_local_part"),
            models.CheckConstraint(condition=Q(local_part__regex=LOCAL_PART_SQL_RE),
                                   name="mailbox_local_part_valid"),
            models.CheckConstraint(condition=Q(address=Lower("address")), name="mailbox_address_lower"),
            models.CheckConstraint(condition=Q(address__startswith=F("local_part")),
                                   name="mailbox_address_starts_with_local_part"),
            models.CheckConstraint(condition=Q(quota_bytes__gte=0), name="mailbox_quota_gte_0"),
            models.CheckConstraint(condition=~Q(maildir__startswith="/") & ~Q(maildir__contains=".."),
                                   name="mailbox_maildir_relative"),
            models.CheckConstraint(condition=plain_text_constraint("name"), name="mailbox_name_plain_text"),
        ]
        indexes = [
            # Substring search as you type over 100,000 mailboxes.
            GinIndex(OpClass(Upper("address"), name="gin_trgm_ops"), name="mailbox_address_trgm", fastupdate=False),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="mailbox_name_trgm", fastupdate=False),
            # Counts and quota sums per domain (domain list, dashboard, limit checks) read
            # this index alone instead of the wide mailbox rows (hashes, paths): 4x faster.
            models.Index(fields=["domain"], include=["quota_bytes", "active"], name="mailbox_domain_covering"),
            # Sort by last login and "no login for N days" (NULLs first: never logged in is the most idle),
            # over every mailbox and within a domain.
            models.Index(F("last_login_at").asc(nulls_first=True), F("id"), name="mailbox_last_login"),
            models.Index(F("domain"), F("last_login_at").asc(nulls_first=True), F("id"),
                         name="mailbox_domain_last_login"),
        ]

    def __str__(self) -> str:
        return self.display_address

    @property
    def display_address(self) -> str:
        return address_display(self.address)


class Alias(models.Model):
    """Mail for `address` goes to every one of `destinations`.

    `address` is a full address, or `@domain` for the domain's catch-all. An alias whose
    `mailbox` is set is that mailbox's forwarding: it shares the mailbox's address, and its
    destinations include the mailbox itself when a copy is kept.
    """

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="aliases",
                               verbose_name=_("domain"))
    address = models.CharField(_("address"), max_length=320, unique=True,
                               error_messages={"unique": _("This alias already exists.")})
    destinations = ArrayField(models.CharField(max_length=320), verbose_name=_("destinations"))
    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="forwarding", verbose_name=_("forwarding of"))
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    modified = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        db_table = "alias"
        ordering = ["address"]
        verbose_name = _("alias")
        verbose_name_plural = _("aliases")
        constraints = [
            models.CheckConstraint(condition=Q(address=Lower("address")), name="alias_address_lower"),
            models.CheckConstraint(condition=Q(address__contains="@"), name="alias_address_has_at"),
            models.CheckConstraint(condition=Q(address__regex=ALIAS_ADDRESS_SQL_RE),
                                   name="alias_local_part_served"),
            models.CheckConstraint(condition=Q(destinations__len__gte=1),
                                   name="alias_has_destination"),
            # A forwarding is never a catch-all.
            models.CheckConstraint(condition=Q(mailbox__isnull=True) | ~Q(address__startswith="@"),
                                   name="alias_forwarding_not_catchall"),
        ]
        indexes = [
            # smtpd_sender_login_maps: which aliases deliver to this mailbox?
            GinIndex(fields=["destinations"], name="alias_destinations_gin", fastupdate=False),
            GinIndex(OpClass(Upper("address"), name="gin_trgm_ops"), name="alias_address_trgm", fastupdate=False),
            # Deletes and renames: which aliases name this address with an extension
            # (bob+lists@)? The function is migration 0008's.
            GinIndex(Func(F("destinations"), function="alias_destination_stems"),
                     name="alias_destination_stems_gin", fastupdate=False),
        ]

    def __str__(self) -> str:
        return self.display_address

    @property
    def is_catchall(self) -> bool:
        return self.address.startswith("@")

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]

    @property
    def display_address(self) -> str:
        return address_display(self.address)

    @property
    def display_destinations(self) -> list[str]:
        return [address_display(d) for d in self.destinations]


class AliasDomain(models.Model):
    """Every address of `name` is the same address of `target` (mailboxes, aliases, catch-all)."""

    name = models.CharField(_("alias domain"), max_length=253, unique=True,
                            error_messages={"unique": _("This alias domain already exists.")})
    target = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="alias_domains",
                               verbose_name=_("target domain"))
    active = models.BooleanField(_("active"), default=True)
    # A domain admin's alias domain is a request until a superadmin approves it (issue 11).
    approved = models.BooleanField(_("approved"), default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    modified = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        db_table = "alias_domain"
        ordering = ["name"]
        verbose_name = _("alias domain")
        verbose_name_plural = _("alias domains")
        constraints = [
            models.CheckConstraint(condition=Q(name__regex=DOMAIN_NAME_SQL_RE),
                                   name="alias_domain_name_lower_ascii"),
            # SECURITY: the Postfix maps read `active`; an unapproved name never routes.
            models.CheckConstraint(condition=Q(approved=True) | Q(active=False),
                                   name="alias_domain_active_only_when_approved"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return domain_display(self.name)


def domain_of_username():
    """The domain part of quota_usage.username (a mailbox address), as SQL. Indexed, so that a
    domain's usage rows are found without joining 20,000 mailboxes by address."""
    return Func(F("mailbox"), Value("@"), Value(2), function="split_part", output_field=models.CharField())


class QuotaUsage(models.Model):
    """What a mailbox uses, written by Dovecot's quota dict (the panel only creates the row).

    Dovecot upserts `bytes` and `messages` by `username`; a trigger stamps `updated_at`
    on every write, so NULL means Dovecot never wrote (no mail delivered yet).
    """

    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, primary_key=True,
                                   to_field="address", db_column="username",
                                   related_name="usage", verbose_name=_("mailbox"))
    bytes = models.BigIntegerField(_("bytes used"), default=0)
    messages = models.BigIntegerField(_("messages"), default=0)
    updated_at = models.DateTimeField(_("last updated by Dovecot"), null=True, blank=True)
    # bytes / the mailbox quota, kept by triggers (NULL = unlimited): the quota page sorts
    # 100,000 mailboxes by fullness through this column's index instead of a join and a sort.
    fill_ratio = models.FloatField(_("fullness"), null=True, blank=True, editable=False)

    class Meta:
        db_table = "quota_usage"
        verbose_name = _("quota usage")
        verbose_name_plural = _("quota usage")
        indexes = [
            models.Index(fields=["bytes"], name="quota_usage_bytes"),
            models.Index(F("fill_ratio").desc(nulls_last=True), F("mailbox"), name="quota_usage_fullest"),
            models.Index(domain_of_username(), name="quota_usage_domain"),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id}: {self.bytes} bytes, {self.messages} messages"


class DeletedMaildir(models.Model):
    """A deleted mailbox's maildir: never given to a new mailbox, purged by
    `manage.py maildirs purge` on the mail host."""

    maildir = models.CharField(_("maildir"), max_length=400, unique=True)
    address = models.CharField(_("address"), max_length=320)
    deleted = models.DateTimeField(_("deleted"), auto_now_add=True)
    purged = models.DateTimeField(_("purged"), null=True, blank=True)

    class Meta:
        db_table = "deleted_maildir"
        ordering = ["deleted"]
        verbose_name = _("deleted maildir")
        verbose_name_plural = _("deleted maildirs")

    def __str__(self) -> str:
        return self.maildir


class LastLogin(models.Model):
    """When a mailbox last logged in over IMAP or POP3, written by Dovecot's last_login plugin
    through its dict (docs/mailstack.md, "Last login"): an upsert of `last_login`, Unix time in
    seconds, by `username`. No row: Dovecot has not seen a login since the plugin was set up.
    A trigger copies each write to mailbox.last_login_at, which the panel reads."""

    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, primary_key=True,
                                   to_field="address", db_column="username",
                                   related_name="login_record", verbose_name=_("mailbox"))
    last_login = models.BigIntegerField(_("last login (Unix time, seconds)"))

    class Meta:
        db_table = "last_login"
        verbose_name = _("last login")
        verbose_name_plural = _("last logins")

    def __str__(self) -> str:
        return f"{self.mailbox_id}: {self.last_login}"
