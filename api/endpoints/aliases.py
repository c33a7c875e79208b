"""/api/v1/aliases (catch-alls included; mailbox forwardings live on their mailbox)."""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from domains import selectors, services

from ..errors import responses
from ..pagination import Page, PageQuery, paginate
from ..schemas import MAX_BIGINT, AliasCreate, AliasFilters, AliasOut, AliasUpdate
from .mailboxes import scoped_domain

router = Router(tags=["aliases"])
Id = Path(..., ge=1, le=MAX_BIGINT)


@router.get("/aliases", response=responses(200, Page[AliasOut]), summary="List aliases and catch-alls")
def list_aliases(request: HttpRequest, filters: Query[AliasFilters], page: Query[PageQuery]):
    admin = request.auth.admin
    domain = scoped_domain(admin, filters.domain)
    return paginate(selectors.alias_list(admin, domain=domain, query=filters.q, active=filters.active,
                                         sort=filters.sort), page)


@router.post("/aliases", response=responses(201, AliasOut),
             summary="Create an alias; an empty local_part makes the domain's catch-all")
def create_alias(request: HttpRequest, payload: AliasCreate):
    admin = request.auth.admin
    domain = scoped_domain(admin, payload.domain_id, "domain_id")
    alias = services.alias_create(domain=domain, local_part=payload.local_part, destinations=payload.destinations,
                                  active=payload.active, acting_user=admin)
    return Status(201, alias)


@router.get("/aliases/{alias_id}", response=responses(200, AliasOut), summary="Get an alias")
def get_alias(request: HttpRequest, alias_id: int = Id):
    return selectors.get_plain_alias_for_admin(request.auth.admin, alias_id)


@router.patch("/aliases/{alias_id}", response=responses(200, AliasOut), summary="Change destinations or active")
def update_alias(request: HttpRequest, payload: AliasUpdate, alias_id: int = Id):
    admin = request.auth.admin
    alias = selectors.get_plain_alias_for_admin(admin, alias_id)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    if changes:
        alias = services.alias_update(alias=alias, acting_user=admin, **changes)
    return alias


@router.delete("/aliases/{alias_id}", response=responses(204, None), summary="Delete an alias")
def delete_alias(request: HttpRequest, alias_id: int = Id):
    admin = request.auth.admin
    services.alias_delete(alias=selectors.get_plain_alias_for_admin(admin, alias_id), acting_user=admin)
    return Status(204, None)
