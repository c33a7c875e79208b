"""/api/v1/domains: the admin's domains with their counts; writes through domains.services."""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from domains import selectors, services

from ..errors import responses, superadmin_only
from ..pagination import Page, PageQuery, paginate
from ..schemas import MAX_BIGINT, DomainCreate, DomainFilters, DomainOut, DomainSettings

router = Router(tags=["domains"])
Id = Path(..., ge=1, le=MAX_BIGINT)


def _summary(admin, domain_id: int):
    return selectors.domain_list(admin).get(pk=domain_id)


@router.get("/domains", response=responses(200, Page[DomainOut]), summary="List domains")
def list_domains(request: HttpRequest, filters: Query[DomainFilters], page: Query[PageQuery]):
    admin = request.auth.admin
    return paginate(selectors.domain_list(admin, query=filters.q, sort=filters.sort), page)


@router.post("/domains", response=responses(201, DomainOut), summary="Create a domain (superadmin)")
def create_domain(request: HttpRequest, payload: DomainCreate):
    admin = request.auth.admin
    if not admin.is_superadmin:
        raise superadmin_only()
    domain = services.domain_create(acting_user=admin, **payload.dict(exclude_none=True))
    return Status(201, _summary(admin, domain.pk))


@router.get("/domains/{domain_id}", response=responses(200, DomainOut), summary="Get a domain")
def get_domain(request: HttpRequest, domain_id: int = Id):
    admin = request.auth.admin
    return _summary(admin, selectors.get_domain_for_admin(admin, domain_id).pk)


@router.patch("/domains/{domain_id}", response=responses(200, DomainOut),
              summary="Change a domain (domain admins: description, default quota, external forwarding)")
def update_domain(request: HttpRequest, payload: DomainSettings, domain_id: int = Id):
    admin = request.auth.admin
    domain = selectors.get_domain_for_admin(admin, domain_id)  # 404 outside the scope first
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    if not admin.is_superadmin:
        # SECURITY: limits and routing stay with superadmins, as on the domain form.
        for field in changes:
            if field not in services.DOMAIN_ADMIN_EDITABLE_FIELDS:
                raise superadmin_only(field)
    if changes:
        services.domain_update(domain=domain, acting_user=admin, **changes)
    return _summary(admin, domain.pk)


@router.delete("/domains/{domain_id}", response=responses(204, None),
               summary="Delete a domain with its mailboxes, aliases and alias domains (superadmin)")
def delete_domain(request: HttpRequest, domain_id: int = Id):
    admin = request.auth.admin
    domain = selectors.get_domain_for_admin(admin, domain_id)
    if not admin.is_superadmin:
        raise superadmin_only()
    services.domain_delete(domain=domain, acting_user=admin)
    return Status(204, None)
