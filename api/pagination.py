"""Page-number pagination shared by every list endpoint."""
from __future__ import annotations

from typing import Generic, TypeVar

from django.db.models import QuerySet
from ninja import Field, Schema

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class Page(Schema, Generic[T]):
    count: int | None = Field(description="Total rows matching (null where counting is too costly: the audit log)")
    page: int
    page_size: int
    has_next: bool
    results: list[T]


def paginate(queryset: QuerySet, query: PageQuery, *, count: bool = True) -> dict:
    """One page of `queryset` (already ordered); fetches one row more to tell whether a next page exists."""
    start = (query.page - 1) * query.page_size
    rows = list(queryset[start:start + query.page_size + 1])
    return {"count": queryset.count() if count else None, "page": query.page, "page_size": query.page_size,
            "has_next": len(rows) > query.page_size, "results": rows[:query.page_size]}
