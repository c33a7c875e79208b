"""/api/v1/alias-domains. A new name in the server's routing is a superadmin decision: a domain
admin's POST is a request (inactive, unapproved) until a superadmin approves it, as on the pages."""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from domains import selectors, services

from ..errors import responses, superadmin_only
from ..pagination import Page, PageQuery, paginate
from ..schemas import (MAX_BIGINT, AliasDomainApprove, AliasDomainCreate, AliasDomainFilters, AliasDomainOut,
                       AliasDomainUpdate)
from .mailboxes import scoped_domain

router = Router(tags=["alias domains"])
Id = Path(..., ge=1, le=MAX_BIGINT)


@router.get("/alias-domains", response=responses(200, Page[AliasDomainOut]), summary="List alias domains")
def list_alias_domains(request: HttpRequest, filters: Query[AliasDomainFilters], page: Query[PageQuery]):
    admin = request.auth.admin
    domain = scoped_domain(admin, filters.domain)
    return paginate(selectors.alias_domain_list(admin, domain=domain, query=filters.q, pending=filters.pending), page)


@router.post("/alias-domains", response=responses(201, AliasDomainOut),
             summary="Create an alias domain (superadmin), or request one (domain admin)")
def create_alias_domain(request: HttpRequest, payload: AliasDomainCreate):
    admin = request.auth.admin
    target = scoped_domain(admin, payload.target_id, "target_id")
    alias_domain = services.alias_domain_create(name=payload.name, target=target, active=payload.active,
                                                allow_lookalike=payload.allow_lookalike, acting_user=admin)
    return Status(201, alias_domain)


@router.post("/alias-domains/{alias_domain_id}/approve", response=responses(200, AliasDomainOut),
             summary="Approve a requested alias domain (superadmin)")
def approve_alias_domain(request: HttpRequest, payload: AliasDomainApprove, alias_domain_id: int = Id):
    admin = request.auth.admin
    alias_domain = selectors.get_alias_domain_for_admin(admin, alias_domain_id)
    if not admin.is_superadmin:
        raise superadmin_only()
    return services.alias_domain_approve(alias_domain=alias_domain, allow_lookalike=payload.allow_lookalike,
                                         acting_user=admin)


@router.get("/alias-domains/{alias_domain_id}", response=responses(200, AliasDomainOut), summary="Get an alias domain")
def get_alias_domain(request: HttpRequest, alias_domain_id: int = Id):
    return selectors.get_alias_domain_for_admin(request.auth.admin, alias_domain_id)


@router.patch("/alias-domains/{alias_domain_id}", response=responses(200, AliasDomainOut),
              summary="Activate or deactivate an alias domain")
def update_alias_domain(request: HttpRequest, payload: AliasDomainUpdate, alias_domain_id: int = Id):
    admin = request.auth.admin
    alias_domain = selectors.get_alias_domain_for_admin(admin, alias_domain_id)
    return services.alias_domain_set_active(alias_domain=alias_domain, active=payload.active, acting_user=admin)


@router.delete("/alias-domains/{alias_domain_id}", response=responses(204, None), summary="Delete an alias domain")
def delete_alias_domain(request: HttpRequest, alias_domain_id: int = Id):
    admin = request.auth.admin
    services.alias_domain_delete(alias_domain=selectors.get_alias_domain_for_admin(admin, alias_domain_id),
                                 acting_user=admin)
    return Status(204, None)
