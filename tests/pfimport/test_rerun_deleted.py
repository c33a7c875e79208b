"""A re-run of import_postfixadmin never brings back what was deleted in the panel since the
first import: an admin whose access was revoked, an alias, a domain (review-import)."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts import services as admin_services
from accounts.models import Admin
from domains import services
from domains.models import Alias, Domain

from .pfa import mariadb_source, rows

pytestmark = pytest.mark.django_db


def run(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command("import_postfixadmin", url, *args, stdout=out)
    return out.getvalue()


def test_rerun_does_not_resurrect_what_the_panel_deleted():
    tables, _data = rows("4", domains=2, mailboxes_per_domain=5)
    with mariadb_source("4", tables) as url:
        run(url)
        admin_services.admin_delete(admin=Admin.objects.get(username="dom@pfa.example"), acting_user=None)
        alias = Alias.objects.filter(mailbox__isnull=True, domain__name="pfa1.example").first()
        services.alias_delete(alias=alias, acting_user=None)
        services.domain_delete(domain=Domain.objects.get(name="pfa0.example"), acting_user=None)
        report = run(url)
    assert not Admin.objects.filter(username="dom@pfa.example").exists()
    assert not Alias.objects.filter(address=alias.address).exists()
    assert not Domain.objects.filter(name="pfa0.example").exists()
    for key in ("dom@pfa.example", alias.address, "pfa0.example"):
        assert any(key in line and "deleted_here" in line for line in report.splitlines()), key
