from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from domains.addresses import domain_display
from domains.params import MAX_PAGE, bounded_int

from . import selectors
from .forms import AuditFilterForm

PAGE_SIZE = 50


class CountlessPage:
    """One page of a queryset, without COUNT(*): the audit log only grows, and counting
    millions of rows on every visit would cost more than showing the page. Fetches one row
    more than the page to know whether there is a next one."""

    def __init__(self, queryset, number, size: int):
        self.number = bounded_int(number, default=1, minimum=1, maximum=MAX_PAGE)
        start = (self.number - 1) * size
        rows = list(queryset[start:start + size + 1])
        self.object_list = rows[:size]
        self._has_next = len(rows) > size
        self.start_index = start + 1 if self.object_list else 0
        self.end_index = start + len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if form.is_valid():
        entries = selectors.audit_list(request.user, domain_name=form.cleaned_data["domain"],
                                       action=form.cleaned_data["action"], actor=form.cleaned_data["actor"].strip(),
                                       date_from=form.cleaned_data["date_from"],
                                       date_to=form.cleaned_data["date_to"])
    else:
        entries = selectors.audit_entries_for(request.user).none()
    page = CountlessPage(entries, request.GET.get("page"), PAGE_SIZE)
    for entry in page.object_list:
        entry.changes = selectors.entry_changes(entry)
        entry.object_display = selectors.object_display(entry)
        entry.domain_display = domain_display(entry.domain_name) if entry.domain_name else ""
    template = "audit/auditentry_list.html"
    if request.htmx and request.htmx.target == "audit-table":
        template += "#audit-table"
    return render(request, template, {"form": form, "page": page})
