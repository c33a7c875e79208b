"""/api/v1/quota and /api/v1/audit: read-only, scoped like their pages."""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from audit.selectors import audit_list
from quota.selectors import UsageQuery, usage_for

from ..errors import responses
from ..pagination import Page, PageQuery, paginate
from ..schemas import AuditFilters, AuditOut, QuotaFilters, QuotaUsageOut
from .mailboxes import scoped_domain

router = Router()


@router.get("/quota", response=responses(200, Page[QuotaUsageOut]), tags=["quota"],
            summary="Quota usage per mailbox, as Dovecot last reported it")
def list_quota(request: HttpRequest, filters: Query[QuotaFilters], page: Query[PageQuery]):
    admin = request.auth.admin
    domain = scoped_domain(admin, filters.domain)
    query = UsageQuery(domain=domain, filter=filters.filter, search=filters.q, sort=filters.sort)
    return paginate(usage_for(admin, query), page)


@router.get("/audit", response=responses(200, Page[AuditOut]), tags=["audit"],
            summary="The audit log, newest first (count is null: the log is only paged)")
def list_audit(request: HttpRequest, filters: Query[AuditFilters], page: Query[PageQuery]):
    entries = audit_list(request.auth.admin, domain_name=filters.domain, action=filters.action,
                         actor=filters.actor, date_from=filters.date_from, date_to=filters.date_to)
    return paginate(entries, page, count=False)
