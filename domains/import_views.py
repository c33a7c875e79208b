"""CSV import of mailboxes and aliases (domains/importing.py): upload, a dry-run table with
each row's verdict, then the commit in one transaction; generated passwords come back once,
as the commit's CSV download. And the export in the same format."""
from __future__ import annotations

import csv

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors
from .importing import export_rows, exportable, import_rows, passwords_csv, read_rows

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # the commit posts the file back as a field: Django's 2.5 MB limit


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           help_text=gettext_lazy("Columns: type, address, name, quota, password, "
                                                  "destinations, active (see the example)."))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 2 MB: split it, or use manage.py mailbox import."),
                                  code="import_too_large")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text."), code="import_encoding") from None


def _check_web_rows(rows: list) -> None:
    """Refuse a file too long for one web request (settings.MAILADMIN_IMPORT_WEB_MAX_ROWS):
    each mailbox costs an argon2 hash at the commit, and a request past gunicorn's timeout
    would be cut off half-way. The CLI has no such limit."""
    limit = settings.MAILADMIN_IMPORT_WEB_MAX_ROWS
    if len(rows) > limit:
        raise ValidationError(
            ngettext("The file has %(count)d rows; the panel imports at most %(max)d per upload. Split it, "
                     "or import it on the server with: manage.py mailbox import FILE",
                     "The file has %(count)d rows; the panel imports at most %(max)d per upload. Split it, "
                     "or import it on the server with: manage.py mailbox import FILE", len(rows))
            % {"count": len(rows), "max": limit}, code="import_too_many_for_web")


@require_http_methods(["GET", "POST"])
def import_csv(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST with a file: the dry run. POST with csv_text and commit: the import."""
    scope = selectors.domains_for(request.user)
    committing = request.method == "POST" and request.POST.get("commit") == "1"
    form = ImportForm(request.POST if request.method == "POST" and not committing else None,
                      request.FILES if request.method == "POST" and not committing else None)
    text = None
    if committing:
        text = request.POST.get("csv_text", "")
    elif request.method == "POST" and form.is_valid():
        text = form.cleaned_data["file"]
    if text is None:
        return render(request, "domains/import.html", {"form": form})
    try:
        rows = read_rows(text)
        _check_web_rows(rows)
    except ValidationError as exc:
        if committing:  # the text came back from the dry-run page: no bound upload to attach it to
            form = ImportForm(data={}, files={"file": None})
            form.errors.clear()
            form.cleaned_data = {}
        form.add_error(None, exc)
        return render(request, "domains/import.html", {"form": form})
    result = import_rows(rows, acting_user=request.user, domain_scope=scope, dry_run=not committing)
    if result.committed:
        count = len(result.rows)
        messages.success(request, ngettext("%(count)d row imported.", "%(count)d rows imported.", count)
                         % {"count": count})
        if result.generated:
            # The only time these passwords exist in clear: in this download, never stored or logged.
            response = HttpResponse(passwords_csv(result), content_type="text/csv; charset=utf-8")
            stamp = timezone.now().strftime("%Y%m%d-%H%M")
            response["Content-Disposition"] = f'attachment; filename="passwords-{stamp}.csv"'
            response["Cache-Control"] = "no-store"
            return response
        return redirect(reverse("domains:mailbox-list"))
    return render(request, "domains/import.html", {
        "form": ImportForm(), "result": result, "csv_text": text, "committing": committing,
        "ok_count": len(result.rows) - len(result.errors),
    })


class _Echo:
    def write(self, value):
        return value


@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The admin's mailboxes and aliases in the import format (no passwords), streamed."""
    mailboxes, aliases = exportable(selectors.mailboxes_for(request.user), selectors.aliases_for(request.user))
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in export_rows(mailboxes, aliases)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mailboxes-aliases-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response
