"""Reads of admin accounts. Only superadmins manage admins; to anyone else the pages do not exist."""
from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from .models import Admin


def require_superadmin(user) -> None:
    if not (isinstance(user, Admin) and user.is_active and user.is_superadmin):
        raise Http404


def admin_list(user: Admin, *, query: str = "") -> QuerySet[Admin]:
    require_superadmin(user)
    admins = Admin.objects.annotate(domain_count=Count("domains"))
    query = query.strip()
    if query:
        admins = admins.filter(Q(username__icontains=query) | Q(email__icontains=query))
    return admins.order_by("username")


def get_admin_for_superadmin(user: Admin, pk) -> Admin:
    require_superadmin(user)
    try:
        return Admin.objects.get(pk=pk)
    except (Admin.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
