import csv

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from domains.params import page_param
from domains.addresses import domain_label
from domains.selectors import domains_for

from .forms import UsageFilterForm
from .selectors import UsageQuery, domain_summaries, usage_for

PAGE_SIZE = 50
SELECT_MAX = 100


def _query(request: HttpRequest) -> tuple[UsageFilterForm, UsageQuery]:
    form = UsageFilterForm(request.GET or None, domains=domains_for(request.user).order_by("name"))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        # SECURITY: clean_domain() only finds domains within the admin's scope.
        return form, UsageQuery(domain=data["domain"], filter=data["filter"] or "all", search=data["q"],
                                sort=data["sort"] or "fullest")
    return form, UsageQuery()


@require_GET
def quota_list(request: HttpRequest) -> HttpResponse:
    form, query = _query(request)
    page = page_param(request)
    # No COUNT(*) over 100,000 rows: fetch one row more than a page to know if there is a next one.
    offset = (page - 1) * PAGE_SIZE
    rows = list(usage_for(request.user, query)[offset:offset + PAGE_SIZE + 1])
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        # A select for a handful of domains; past that, a field to type the name (1,000 <option>s
        # would cost more to render than the whole table).
        "domain_choices": [(pk, domain_label(name)) for pk, name in
                           domains_for(request.user).order_by("name").values_list("pk", "name")[:SELECT_MAX + 1]],
        "select_max": SELECT_MAX,
        "form": form, "query": query, "rows": rows[:PAGE_SIZE], "page": page,
        "has_next": len(rows) > PAGE_SIZE, "has_previous": page > 1, "params": params.urlencode(),
        "summaries": domain_summaries(request.user, query.domain) if query.domain else None,
    }
    template = "quota/quota_list.html"
    if request.htmx:
        template += "#usage-table"
    return render(request, template, context)


class _Echo:
    def write(self, value):
        return value


@require_GET
def quota_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filtered view as CSV, streamed: 100,000 rows never sit in memory."""
    _form, query = _query(request)
    writer = csv.writer(_Echo())

    columns = ("mailbox__address", "mailbox__domain__name", "mailbox__active", "mailbox__quota_bytes", "bytes",
               "messages", "fill_ratio", "updated_at")

    def rows():
        yield writer.writerow(["address", "domain", "active", "quota_bytes", "used_bytes", "messages",
                               "percent", "last_update"])
        # Tuples, not model instances: the full export is 100,000 rows.
        for address, domain, active, quota, used, messages, ratio, updated in (
                usage_for(request.user, query).values_list(*columns).iterator(chunk_size=5000)):
            yield writer.writerow([address, domain, int(active), quota, used, messages,
                                   "" if ratio is None else f"{ratio * 100:.1f}",
                                   updated.isoformat() if updated else ""])

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quota-{stamp}.csv"'
    return response
