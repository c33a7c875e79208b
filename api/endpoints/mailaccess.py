"""/api/v1/mailboxes/{id}/app-passwords and /send-as: through mailaccess.services, scoped like
the panel (the mailbox must be the admin's; a grant's address must be in their scope)."""
from __future__ import annotations

import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from domains import selectors as domain_selectors
from mailaccess import selectors, services

from ..errors import responses
from ..schemas import MAX_BIGINT

router = Router(tags=["mailboxes"])
Id = Path(..., ge=1, le=MAX_BIGINT)


class AppPasswordOut(Schema):
    id: int
    name: str
    protocols: list[str] = Field(description="Empty: imap, pop3 and smtp")
    created: datetime.datetime
    revoked: datetime.datetime | None


class AppPasswordCreated(AppPasswordOut):
    secret: str = Field(description="The password itself: returned by this response only, never again")


class AppPasswordIn(Schema):
    name: str = Field(max_length=100)
    protocols: list[Literal["imap", "pop3", "smtp"]] = Field(default=[], max_length=3,
                                                             description="Empty: imap, pop3 and smtp")


class SendAsOut(Schema):
    address: str
    reason: Literal["mailbox", "alias", "grant", "alias_domain"]
    via: str


class SenderGrantOut(Schema):
    id: int
    address: str
    created: datetime.datetime


class SenderGrantIn(Schema):
    address: str = Field(max_length=320)


@router.get("/mailboxes/{mailbox_id}/app-passwords", response=responses(200, list[AppPasswordOut]),
            summary="The mailbox's app passwords (never their secrets)")
def list_app_passwords(request: HttpRequest, mailbox_id: int = Id):
    mailbox = domain_selectors.get_mailbox_for_admin(request.auth.admin, mailbox_id)
    return list(selectors.app_passwords_of(mailbox))


@router.post("/mailboxes/{mailbox_id}/app-passwords", response=responses(201, AppPasswordCreated),
             summary="Create an app password; the response carries its secret, once")
def create_app_password(request: HttpRequest, payload: AppPasswordIn, mailbox_id: int = Id):
    admin = request.auth.admin
    mailbox = domain_selectors.get_mailbox_for_admin(admin, mailbox_id)
    created = services.app_password_create(mailbox=mailbox, name=payload.name, protocols=payload.protocols,
                                           acting_user=admin)
    p = created.app_password
    return Status(201, {"id": p.pk, "name": p.name, "protocols": p.protocols, "created": p.created,
                        "revoked": p.revoked, "secret": created.secret})


@router.delete("/mailboxes/{mailbox_id}/app-passwords/{app_password_id}", response=responses(204, None),
               summary="Revoke an app password (Dovecot refuses it from the next login)")
def revoke_app_password(request: HttpRequest, mailbox_id: int = Id, app_password_id: int = Id):
    admin = request.auth.admin
    mailbox = domain_selectors.get_mailbox_for_admin(admin, mailbox_id)
    services.app_password_revoke(app_password=selectors.get_app_password(mailbox, app_password_id),
                                 acting_user=admin)
    return Status(204, None)


@router.get("/mailboxes/{mailbox_id}/send-as", response=responses(200, list[SendAsOut]),
            summary="Every address the mailbox may send as, and why")
def list_send_as(request: HttpRequest, mailbox_id: int = Id):
    mailbox = domain_selectors.get_mailbox_for_admin(request.auth.admin, mailbox_id)
    return [{"address": s.address, "reason": s.reason, "via": s.via} for s in selectors.send_as_addresses(mailbox)]


@router.get("/mailboxes/{mailbox_id}/sender-grants", response=responses(200, list[SenderGrantOut]),
            summary="The mailbox's explicit send-as grants")
def list_sender_grants(request: HttpRequest, mailbox_id: int = Id):
    mailbox = domain_selectors.get_mailbox_for_admin(request.auth.admin, mailbox_id)
    return list(selectors.sender_grants_of(mailbox))


@router.post("/mailboxes/{mailbox_id}/sender-grants", response=responses(201, SenderGrantOut),
             summary="Let the mailbox send as an address (a domain admin: of their domains only)")
def create_sender_grant(request: HttpRequest, payload: SenderGrantIn, mailbox_id: int = Id):
    admin = request.auth.admin
    mailbox = domain_selectors.get_mailbox_for_admin(admin, mailbox_id)
    return Status(201, services.sender_grant_create(mailbox=mailbox, address=payload.address, acting_user=admin))


@router.delete("/mailboxes/{mailbox_id}/sender-grants/{grant_id}", response=responses(204, None),
               summary="Withdraw a send-as grant")
def delete_sender_grant(request: HttpRequest, mailbox_id: int = Id, grant_id: int = Id):
    admin = request.auth.admin
    mailbox = domain_selectors.get_mailbox_for_admin(admin, mailbox_id)
    services.sender_grant_delete(grant=selectors.get_sender_grant(mailbox, grant_id), acting_user=admin)
    return Status(204, None)
