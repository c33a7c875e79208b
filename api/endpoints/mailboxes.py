"""/api/v1/mailboxes and their forwarding; writes through domains.services."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from domains import selectors, services

from ..errors import responses
from ..pagination import Page, PageQuery, paginate
from ..schemas import (MAX_BIGINT, ForwardingIn, ForwardingOut, MailboxCreate, MailboxFilters, MailboxOut,
                       MailboxUpdate)

router = Router(tags=["mailboxes"])
Id = Path(..., ge=1, le=MAX_BIGINT)


def scoped_domain(admin, domain_id: int | None, field: str = "domain"):
    """The admin's domain `domain_id` for a filter or a body field: an unknown or foreign id is a
    field error that says no more than "not found" (never whether the domain exists)."""
    if domain_id is None:
        return None
    try:
        return selectors.get_domain_for_admin(admin, domain_id)
    except Http404:
        raise ValidationError({field: ValidationError(_("No such domain."), code="domain_not_found")}) from None


def _reload(admin, pk: int):
    return selectors.mailboxes_for(admin).select_related("domain", "usage").get(pk=pk)


# The columns MailboxOut reads. The page's list loads fewer; a column left deferred would cost
# one query per row here (7 per mailbox before this list existed).
MAILBOX_OUT_FIELDS = ("id", "address", "domain", "local_part", "name", "quota_bytes", "active", "maildir",
                      "password_changed", "created", "modified", "usage__bytes", "usage__messages")


@router.get("/mailboxes", response=responses(200, Page[MailboxOut]), summary="List mailboxes")
def list_mailboxes(request: HttpRequest, filters: Query[MailboxFilters], page: Query[PageQuery]):
    admin = request.auth.admin
    domain = scoped_domain(admin, filters.domain)
    mailboxes = selectors.mailbox_list(admin, domain=domain, query=filters.q, active=filters.active,
                                       sort=filters.sort)
    return paginate(mailboxes.only(*MAILBOX_OUT_FIELDS), page)


@router.post("/mailboxes", response=responses(201, MailboxOut), summary="Create a mailbox")
def create_mailbox(request: HttpRequest, payload: MailboxCreate):
    admin = request.auth.admin
    domain = scoped_domain(admin, payload.domain_id, "domain_id")
    mailbox = services.mailbox_create(domain=domain, local_part=payload.local_part, password=payload.password,
                                      name=payload.name, quota_bytes=payload.quota_bytes, active=payload.active,
                                      acting_user=admin)
    return Status(201, _reload(admin, mailbox.pk))


@router.get("/mailboxes/{mailbox_id}", response=responses(200, MailboxOut), summary="Get a mailbox")
def get_mailbox(request: HttpRequest, mailbox_id: int = Id):
    admin = request.auth.admin
    selectors.get_mailbox_for_admin(admin, mailbox_id)
    return _reload(admin, mailbox_id)


@router.patch("/mailboxes/{mailbox_id}", response=responses(200, MailboxOut),
              summary="Change a mailbox: display name, quota, active, password")
def update_mailbox(request: HttpRequest, payload: MailboxUpdate, mailbox_id: int = Id):
    admin = request.auth.admin
    mailbox = selectors.get_mailbox_for_admin(admin, mailbox_id)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    password = changes.pop("password", None)
    if changes:
        mailbox = services.mailbox_update(mailbox=mailbox, acting_user=admin, **changes)
    if password is not None:
        services.mailbox_set_password(mailbox=mailbox, password=password, acting_user=admin)
    return _reload(admin, mailbox.pk)


@router.delete("/mailboxes/{mailbox_id}", response=responses(204, None), summary="Delete a mailbox")
def delete_mailbox(request: HttpRequest, mailbox_id: int = Id):
    admin = request.auth.admin
    services.mailbox_delete(mailbox=selectors.get_mailbox_for_admin(admin, mailbox_id), acting_user=admin)
    return Status(204, None)


def _forwarding_out(mailbox) -> dict:
    forwarding = selectors.get_forwarding_for_mailbox(mailbox)
    if forwarding is None:
        return {"mailbox_id": mailbox.pk, "destinations": [], "keep_copy": True}
    return {"mailbox_id": mailbox.pk, "destinations": [d for d in forwarding.destinations if d != mailbox.address],
            "keep_copy": mailbox.address in forwarding.destinations}


@router.get("/mailboxes/{mailbox_id}/forwarding", response=responses(200, ForwardingOut),
            summary="Where the mailbox's mail is forwarded")
def get_forwarding(request: HttpRequest, mailbox_id: int = Id):
    return _forwarding_out(selectors.get_mailbox_for_admin(request.auth.admin, mailbox_id))


@router.put("/mailboxes/{mailbox_id}/forwarding", response=responses(200, ForwardingOut),
            summary="Set or stop (empty destinations) the mailbox's forwarding")
def set_forwarding(request: HttpRequest, payload: ForwardingIn, mailbox_id: int = Id):
    admin = request.auth.admin
    mailbox = selectors.get_mailbox_for_admin(admin, mailbox_id)
    services.mailbox_set_forwarding(mailbox=mailbox, destinations=payload.destinations,
                                    keep_copy=payload.keep_copy, acting_user=admin)
    return _forwarding_out(mailbox)
