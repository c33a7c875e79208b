"""Request and response shapes of the API (pydantic, via django-ninja): the OpenAPI schema is
generated from these. Sizes are in bytes; 0 means unlimited, as everywhere in the panel."""
from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Field, Schema

MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
Bytes = Field(ge=0, le=MAX_BIGINT)


# --- domains ---------------------------------------------------------------------------

class DomainOut(Schema):
    id: int
    name: str
    description: str
    active: bool
    backup_mx: bool
    transport: str
    max_mailboxes: int
    max_aliases: int
    max_quota_bytes: int
    quota_bytes: int
    default_quota_bytes: int
    allow_external_forwarding: bool
    mailbox_count: int
    alias_count: int
    quota_allocated_bytes: int = Field(alias="quota_allocated")
    created: datetime.datetime
    modified: datetime.datetime


class DomainFilters(Schema):
    q: str = Field("", max_length=200, description="Substring of the domain name")
    sort: Literal["name", "-name", "mailboxes", "-mailboxes", "created", "-created"] = "name"


class DomainSettings(Schema):
    description: str | None = Field(None, max_length=255)
    active: bool | None = None
    backup_mx: bool | None = None
    transport: str | None = Field(None, max_length=255)
    max_mailboxes: int | None = Field(None, ge=0, le=MAX_INT)
    max_aliases: int | None = Field(None, ge=0, le=MAX_INT)
    max_quota_bytes: int | None = Field(None, ge=0, le=MAX_BIGINT)
    quota_bytes: int | None = Field(None, ge=0, le=MAX_BIGINT)
    default_quota_bytes: int | None = Field(None, ge=0, le=MAX_BIGINT)
    allow_external_forwarding: bool | None = None


class DomainCreate(DomainSettings):
    name: str = Field(max_length=253)
    allow_lookalike: bool = Field(False, description="Accept a name that can be mistaken for another (UTS #39)")


# --- mailboxes -------------------------------------------------------------------------

class MailboxOut(Schema):
    id: int
    address: str
    domain_id: int
    local_part: str
    name: str
    quota_bytes: int
    used_bytes: int | None = Field(description="Bytes Dovecot reports in use (null: no usage row)")
    messages: int | None
    active: bool
    maildir: str
    password_changed: datetime.datetime | None
    created: datetime.datetime
    modified: datetime.datetime

    @staticmethod
    def resolve_used_bytes(obj) -> int | None:
        usage = getattr(obj, "usage", None)
        return usage.bytes if usage else None

    @staticmethod
    def resolve_messages(obj) -> int | None:
        usage = getattr(obj, "usage", None)
        return usage.messages if usage else None


class MailboxFilters(Schema):
    domain: int | None = Field(None, ge=1, le=MAX_BIGINT, description="Domain id")
    q: str = Field("", max_length=200, description="Substring of the address or display name")
    active: bool | None = None
    sort: Literal["address", "-address", "name", "-name", "quota", "-quota", "used", "-used",
                  "created", "-created"] = "address"


class MailboxCreate(Schema):
    domain_id: int = Field(ge=1, le=MAX_BIGINT)
    local_part: str = Field(max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field("", max_length=255)
    quota_bytes: int | None = Field(None, ge=0, le=MAX_BIGINT, description="null: the domain's default quota")
    active: bool = True


class MailboxUpdate(Schema):
    name: str | None = Field(None, max_length=255)
    quota_bytes: int | None = Field(None, ge=0, le=MAX_BIGINT)
    active: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=1024)


class ForwardingOut(Schema):
    mailbox_id: int
    destinations: list[str] = Field(description="Where mail goes besides the mailbox itself")
    keep_copy: bool


class ForwardingIn(Schema):
    destinations: list[str] = Field(max_length=500, description="Empty stops forwarding")
    keep_copy: bool = True


# --- aliases ---------------------------------------------------------------------------

class AliasOut(Schema):
    id: int
    address: str
    domain_id: int
    local_part: str
    is_catchall: bool
    destinations: list[str]
    active: bool
    created: datetime.datetime
    modified: datetime.datetime


class AliasFilters(Schema):
    domain: int | None = Field(None, ge=1, le=MAX_BIGINT, description="Domain id")
    q: str = Field("", max_length=200, description="Substring of the address, or an exact destination")
    active: bool | None = None
    sort: Literal["address", "-address", "modified", "-modified"] = "address"


class AliasCreate(Schema):
    domain_id: int = Field(ge=1, le=MAX_BIGINT)
    local_part: str = Field(max_length=64, description="Empty: the domain's catch-all (@domain)")
    destinations: list[str] = Field(min_length=1, max_length=500)
    active: bool = True


class AliasUpdate(Schema):
    destinations: list[str] | None = Field(None, min_length=1, max_length=500)
    active: bool | None = None


# --- alias domains ---------------------------------------------------------------------

class AliasDomainOut(Schema):
    id: int
    name: str
    target_id: int
    active: bool
    approved: bool = Field(description="false: a domain admin's request awaiting a superadmin's approval")
    created: datetime.datetime
    modified: datetime.datetime


class AliasDomainFilters(Schema):
    domain: int | None = Field(None, ge=1, le=MAX_BIGINT, description="Target domain id")
    q: str = Field("", max_length=200)
    pending: bool = Field(False, description="Only the requests awaiting approval")


class AliasDomainCreate(Schema):
    name: str = Field(max_length=253)
    target_id: int = Field(ge=1, le=MAX_BIGINT)
    active: bool = True
    allow_lookalike: bool = Field(False, description="Superadmins: accept a look-alike name (UTS #39)")


class AliasDomainApprove(Schema):
    allow_lookalike: bool = False


class AliasDomainUpdate(Schema):
    active: bool


# --- quota usage -----------------------------------------------------------------------

class QuotaUsageOut(Schema):
    mailbox_id: int
    address: str
    domain_id: int
    quota_bytes: int
    used_bytes: int
    messages: int
    fill_ratio: float | None = Field(description="used / quota; null when the quota is unlimited")
    updated_at: datetime.datetime | None = Field(description="Last write by Dovecot; null: never")

    @staticmethod
    def resolve_mailbox_id(obj) -> int:
        return obj.mailbox.pk

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.mailbox.address

    @staticmethod
    def resolve_domain_id(obj) -> int:
        return obj.mailbox.domain_id

    @staticmethod
    def resolve_quota_bytes(obj) -> int:
        return obj.mailbox.quota_bytes

    @staticmethod
    def resolve_used_bytes(obj) -> int:
        return obj.bytes


class QuotaFilters(Schema):
    domain: int | None = Field(None, ge=1, le=MAX_BIGINT, description="Domain id")
    filter: Literal["all", "80", "90", "95", "100", "unlimited", "never"] = "all"
    q: str = Field("", max_length=320)
    sort: Literal["fullest", "emptiest", "address", "-address", "used", "-used", "messages", "-messages",
                  "quota", "-quota", "updated"] = "fullest"


# --- admins ----------------------------------------------------------------------------

Role = Literal["superadmin", "domain_admin"]


class AdminOut(Schema):
    id: int
    username: str
    email: str
    role: Role
    is_active: bool
    domain_ids: list[int]
    last_login: datetime.datetime | None
    date_joined: datetime.datetime

    @staticmethod
    def resolve_domain_ids(obj) -> list[int]:
        return sorted(d.pk for d in obj.domains.all())


class AdminFilters(Schema):
    q: str = Field("", max_length=150)


class AdminCreate(Schema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=1024)
    email: str = Field("", max_length=254)
    role: Role = "domain_admin"
    domain_ids: list[int] = Field(default_factory=list, max_length=10_000)


class AdminUpdate(Schema):
    email: str | None = Field(None, max_length=254)
    role: Role | None = None
    is_active: bool | None = None
    domain_ids: list[int] | None = Field(None, max_length=10_000)
    password: str | None = Field(None, max_length=1024)


# --- audit log -------------------------------------------------------------------------

class AuditOut(Schema):
    id: int
    created: datetime.datetime
    actor: str = Field(alias="actor_label")
    action: str
    domain: str = Field(alias="domain_name")
    object_type: str
    object: str = Field(alias="object_repr")
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditFilters(Schema):
    domain: str = Field("", max_length=253, description="Domain name")
    action: str = Field("", max_length=64, description="An action (mailbox.create) or a prefix ending in a dot (mailbox.)")
    actor: str = Field("", max_length=320)
    # Bounded so that "the day after date_to" exists.
    date_from: datetime.date | None = Field(None, ge=datetime.date(1970, 1, 1), le=datetime.date(9999, 12, 30))
    date_to: datetime.date | None = Field(None, ge=datetime.date(1970, 1, 1), le=datetime.date(9999, 12, 30))
