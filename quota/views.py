from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from domains.addresses import domain_label
from domains.http import page_size_for
from domains.params import page_param
from domains.selectors import domains_for

from .export import csv_chunks
from .forms import UsageFilterForm
from .selectors import UsageQuery, domain_summaries, usage_for, usage_overview

SELECT_MAX = 100


def _query(request: HttpRequest) -> tuple[UsageFilterForm, UsageQuery]:
    form = UsageFilterForm(request.GET or None, domains=domains_for(request.user).order_by("name"))
    if not form.is_bound:
        return form, UsageQuery()
    form.is_valid()
    # Field by field: an invalid value (shown as an error) falls back to its default, the valid
    # ones still apply. cleaned_data holds the valid fields only.
    # SECURITY: clean_domain() only finds domains within the admin's scope.
    data = form.cleaned_data
    return form, UsageQuery(domain=data.get("domain"), filter=data.get("filter") or "all", search=data.get("q") or "",
                            sort=data.get("sort") or "fullest")


@require_GET
def quota_list(request: HttpRequest) -> HttpResponse:
    form, query = _query(request)
    page = page_param(request)
    # No COUNT(*) over 100,000 rows: fetch one row more than a page to know if there is a next one.
    size = page_size_for(request)
    offset = (page - 1) * size
    rows = list(usage_for(request.user, query)[offset:offset + size + 1])
    params = request.GET.copy()
    params.pop("page", None)
    # Read from the cache; htmx swaps of the table carry the summary too (out of band).
    overview = usage_overview(request.user, query.domain) if query.domain else None
    context = {
        # A select for a handful of domains; past that, a field to type the name (1,000 <option>s
        # would cost more to render than the whole table).
        "domain_choices": [(pk, domain_label(name)) for pk, name in
                           domains_for(request.user).order_by("name").values_list("pk", "name")[:SELECT_MAX + 1]],
        "select_max": SELECT_MAX,
        "form": form, "query": query, "rows": rows[:size], "page": page,
        "has_next": len(rows) > size, "has_previous": page > 1, "params": params.urlencode(),
        "summaries": domain_summaries(request.user, query.domain, overview) if overview else None,
        "usage_overview": overview,
    }
    template = "quota/quota_list.html"
    if request.htmx:
        template += "#usage-table"
    return render(request, template, context)


@require_GET
def quota_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filtered view as CSV, written by PostgreSQL (quota/export.py) and streamed
    in large chunks: 100,000 rows never sit in memory nor pass through Python one by one."""
    _form, query = _query(request)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_chunks(usage_for(request.user, query)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quota-{stamp}.csv"'
    return response
