"""/api/v1/admins: superadmins only; to anyone else these do not exist (404, as on the pages)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from accounts import selectors, services
from domains.models import Domain

from ..errors import responses
from ..pagination import Page, PageQuery, paginate
from ..schemas import MAX_BIGINT, AdminCreate, AdminFilters, AdminOut, AdminUpdate

router = Router(tags=["admins"])
Id = Path(..., ge=1, le=MAX_BIGINT)


def _domains(ids: list[int]) -> list[Domain]:
    wanted = set(ids)
    domains = list(Domain.objects.filter(pk__in=[i for i in wanted if 0 < i <= MAX_BIGINT]))
    if len(domains) != len(wanted):
        raise ValidationError({"domain_ids": ValidationError(_("No such domain."), code="domain_not_found")})
    return domains


@router.get("/admins", response=responses(200, Page[AdminOut]), summary="List admins (superadmin)")
def list_admins(request: HttpRequest, filters: Query[AdminFilters], page: Query[PageQuery]):
    admins = selectors.admin_list(request.auth.admin, query=filters.q).prefetch_related("domains")
    return paginate(admins, page)


@router.post("/admins", response=responses(201, AdminOut), summary="Create an admin (superadmin)")
def create_admin(request: HttpRequest, payload: AdminCreate):
    actor = request.auth.admin
    selectors.require_superadmin(actor)
    admin = services.admin_create(username=payload.username, password=payload.password, email=payload.email,
                                  role=payload.role, domains=_domains(payload.domain_ids), acting_user=actor)
    return Status(201, admin)


@router.get("/admins/{admin_id}", response=responses(200, AdminOut), summary="Get an admin (superadmin)")
def get_admin(request: HttpRequest, admin_id: int = Id):
    return selectors.get_admin_for_superadmin(request.auth.admin, admin_id)


@router.patch("/admins/{admin_id}", response=responses(200, AdminOut), summary="Change an admin (superadmin)")
def update_admin(request: HttpRequest, payload: AdminUpdate, admin_id: int = Id):
    actor = request.auth.admin
    admin = selectors.get_admin_for_superadmin(actor, admin_id)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    password = changes.pop("password", None)
    if "domain_ids" in changes:
        changes["domains"] = _domains(changes.pop("domain_ids"))
    if changes:
        admin = services.admin_update(admin=admin, acting_user=actor, **changes)
    if password is not None:
        admin = services.admin_set_password(admin=admin, password=password, acting_user=actor)
    return admin


@router.delete("/admins/{admin_id}", response=responses(204, None), summary="Delete an admin (superadmin)")
def delete_admin(request: HttpRequest, admin_id: int = Id):
    actor = request.auth.admin
    services.admin_delete(admin=selectors.get_admin_for_superadmin(actor, admin_id), acting_user=actor)
    return Status(204, None)
