"""manage.py import_postfixadmin against real Postfixadmin databases on MariaDB and PostgreSQL."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Admin
from audit.models import AuditEntry
from domains import services
from domains.models import Alias, AliasDomain, Domain, Mailbox, QuotaUsage

from .pfa import SCHEMES, doveadm_hash, execute, mariadb_source, password_for, postgres_source, rows

pytestmark = pytest.mark.django_db

# (database, schema version, domains, mailboxes per domain): the MariaDB 4.x source holds
# about 2,300 rows (750 mailboxes, their aliases and quota2 rows), the others fewer.
SOURCES = [("mariadb", "2.9", 3, 40), ("mariadb", "4", 5, 150), ("postgresql", "2.9", 3, 40), ("postgresql", "4", 3, 40)]


def run(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command("import_postfixadmin", url, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {"domains": Domain.objects.count(), "mailboxes": Mailbox.objects.count(), "aliases": Alias.objects.count(),
            "alias_domains": AliasDomain.objects.count(), "admins": Admin.objects.count()}


@pytest.mark.parametrize("database,version,domains,per_domain", SOURCES)
def test_import_dry_run_then_real_then_again(database, version, domains, per_domain):
    tables, data = rows(version, domains=domains, mailboxes_per_domain=per_domain)
    source = mariadb_source if database == "mariadb" else postgres_source
    with source(version, tables) as url:
        report = run(url, "--dry-run")
        assert "DRY RUN" in report
        assert counts() == {"domains": 0, "mailboxes": 0, "aliases": 0, "alias_domains": 0, "admins": 0}
        for key, code in data.problems.items():
            assert any(key in line and code in line for line in report.splitlines()), (key, code, report)

        report = run(url)
        # Everything but the problem rows came over, through the services (one audit row each).
        assert set(Domain.objects.values_list("name", flat=True)) == set(data.domains)
        assert Mailbox.objects.count() == len(data.mailboxes)
        assert dict(AliasDomain.objects.values_list("name", "target__name")) == data.alias_domains
        for address, destinations in data.aliases.items():
            assert Alias.objects.get(address=address).destinations == destinations
        assert not Alias.objects.filter(address__startswith="loop-").exists()
        assert AuditEntry.objects.filter(action="mailbox.create").count() == len(data.mailboxes)
        assert AuditEntry.objects.filter(action="import.postfixadmin").count() == 1

        # Hashes kept, each with its Dovecot scheme; maildirs kept; usage from quota2.
        for scheme, _bare in SCHEMES:
            mailbox = Mailbox.objects.filter(address__in=[a for a, s in data.mailboxes.items() if s == scheme]).first()
            assert mailbox.password.startswith("{" + scheme + "}"), mailbox.password
        user3 = Mailbox.objects.get(address="user3@pfa1.example")
        assert user3.maildir == "pfa1.example/user3/" and user3.quota_bytes == 30 * 1024000
        assert QuotaUsage.objects.get(mailbox=user3).bytes == 3000

        # Limits: MB converted with Postfixadmin's multiplier; -1 and over-full limits adjusted.
        first = Domain.objects.get(name="pfa0.example")
        assert first.max_quota_bytes == 100 * 1024000 and first.default_quota_bytes == 100 * 1024000
        assert first.max_mailboxes == per_domain  # the limit was 10 with more mailboxes: raised, noted
        assert Mailbox.objects.get(address="user0@pfa0.example").quota_bytes == 100 * 1024000  # was unlimited
        assert Domain.objects.get(name="backup.example").backup_mx

        # Forwarding (kept copy) from the mailbox's own alias row; plain self-aliases vanish.
        forwarding = Alias.objects.get(address="user1@pfa0.example")
        assert forwarding.mailbox.address == "user1@pfa0.example"
        assert forwarding.destinations == ["user1@pfa0.example", "ext1@elsewhere.example"]
        assert not Alias.objects.filter(address="user0@pfa0.example").exists()

        # Admins with their scopes: superadmin flag, legacy ALL, domain admin of two domains.
        assert Admin.objects.get(username="root@pfa.example").is_superadmin
        assert Admin.objects.get(username="legacy@pfa.example").is_superadmin
        dom = Admin.objects.get(username="dom@pfa.example")
        assert not dom.is_superadmin and sorted(dom.domains.values_list("name", flat=True)) == ["pfa0.example", "pfa1.example"]
        # Their Postfixadmin passwords work at the panel's login; the unverifiable one is disabled.
        assert Admin.objects.get(username="root@pfa.example").check_password(password_for("SHA512-CRYPT"))
        client = Client()
        client.post(reverse("accounts:login"), {"username": "dom@pfa.example", "password": password_for("MD5-CRYPT")})
        assert client.session["_auth_user_id"] == str(dom.pk)
        dom.refresh_from_db()
        assert not dom.password.startswith("dovecot$")  # re-hashed by Django's first hasher at login
        assert not Admin.objects.get(username="legacy@pfa.example").is_active

        # Idempotent: a second run creates nothing.
        before = counts()
        report = run(url)
        assert counts() == before
        assert "mailboxes      created      0   already present" in report


def test_domains_option_limits_the_import():
    tables, data = rows("4", domains=3, mailboxes_per_domain=10)
    with postgres_source("4", tables) as url:
        run(url, "--domains", "pfa1.example")
    assert list(Domain.objects.values_list("name", flat=True)) == ["pfa1.example"]
    assert Mailbox.objects.count() == 10
    assert not Admin.objects.filter(username="root@pfa.example").exists()  # superadmins only without --domains
    assert list(Admin.objects.get(username="dom@pfa.example").domains.values_list("name", flat=True)) == ["pfa1.example"]


def test_all_or_nothing(monkeypatch):
    """An unexpected failure half-way rolls the whole import back."""
    from domains import services

    tables, _data = rows("2.9", domains=2, mailboxes_per_domain=5)
    calls = {"n": 0}
    original = services.mailbox_set_forwarding

    def failing(**kwargs):
        calls["n"] += 1
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "mailbox_set_forwarding", failing)  # after the batches: they roll back too
    with mariadb_source("2.9", tables) as url:
        with pytest.raises(RuntimeError):
            run(url)
    assert calls["n"] == 1 and original is not failing
    assert counts() == {"domains": 0, "mailboxes": 0, "aliases": 0, "alias_domains": 0, "admins": 0}


def test_unreachable_source_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot connect"):
        run("mysql://nobody:x@127.0.0.1:1/postfix")
    with pytest.raises(CommandError, match="unsupported"):
        run("sqlite:///tmp/x.db")


@pytest.mark.parametrize("database", ["mariadb", "postgresql"])
def test_rerun_updates_what_changed_in_the_source_and_reports_it(database):
    """Users kept working in Postfixadmin after the first import: the re-run brings their
    changes over (through the services, audited) and says what it changed."""
    tables, _data = rows("4", domains=2, mailboxes_per_domain=10)
    source = mariadb_source if database == "mariadb" else postgres_source
    with source("4", tables) as url:
        run(url)
        new_hash = doveadm_hash("SHA512-CRYPT", True)  # bare, as php_crypt stores it
        execute(url, "UPDATE mailbox SET quota = %s, name = %s, active = %s, password = %s WHERE username = %s",
                [20 * 1024000, "Renamed", False, new_hash, "user3@pfa1.example"])
        execute(url, "UPDATE alias SET goto = %s WHERE address = %s", ["user4@pfa1.example", "sales@pfa1.example"])
        execute(url, "UPDATE mailbox SET password = %s WHERE username = %s", [new_hash, "user5@pfa1.example"])
        services.mailbox_set_password(mailbox=Mailbox.objects.get(address="user5@pfa1.example"),
                                      password="set here since", acting_user=None)
        before = counts()
        dry = run(url, "--dry-run")
        assert "would update      1" in dry and Mailbox.objects.get(address="user3@pfa1.example").active
        report = run(url)
    assert counts() == before
    user3 = Mailbox.objects.get(address="user3@pfa1.example")
    assert (user3.quota_bytes, user3.name, user3.active) == (20 * 1024000, "Renamed", False)
    assert user3.password == "{SHA512-CRYPT}" + new_hash
    assert Alias.objects.get(address="sales@pfa1.example").destinations == ["user4@pfa1.example"]
    line = next(line for line in report.splitlines() if "user3@pfa1.example" in line)
    assert "quota 30720000 -> 20480000 bytes" in line
    assert "name 'User 3' -> 'Renamed'" in line and "active yes -> no" in line and "password hash replaced" in line
    assert new_hash not in report  # a hash is never printed
    assert "sales@pfa1.example" in report and "user4@pfa1.example" in report
    # A password set in the panel since the first import wins over the old system's.
    assert Mailbox.objects.get(address="user5@pfa1.example").password.startswith("{ARGON2ID}")
    assert any("user5@pfa1.example" in line and "password_kept" in line for line in report.splitlines())
    assert AuditEntry.objects.filter(action="mailbox.update", object_repr="user3@pfa1.example").exists()
    assert AuditEntry.objects.filter(action="mailbox.password", object_repr="user3@pfa1.example").exists()
