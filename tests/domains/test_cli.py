"""The scripting CLI: same services as the web UI, clear errors, non-zero exit, nothing half-written."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEntry
from domains.models import Alias, AliasDomain, Domain, Mailbox
from domains.passwords import verify_argon2id

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args, stdin: str | None = None) -> str:
    out = io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        sys.stdin = old_stdin
    return out.getvalue()


def test_domain_add_with_units_update_show_list_delete():
    out = run("domain", "add", "Bücher.Example", "--description", "Books", "--max-mailboxes", "10",
              "--quota", "10G", "--max-quota", "2G", "--default-quota", "500M")
    assert "created domain xn--bcher-kva.example" in out
    domain = Domain.objects.get()
    assert (domain.quota_bytes, domain.max_quota_bytes, domain.default_quota_bytes) == (
        10 * 1024**3, 2 * 1024**3, 500 * 1024**2)
    run("domain", "update", "bücher.example", "--inactive", "--max-aliases", "3")
    domain.refresh_from_db()
    assert not domain.active and domain.max_aliases == 3
    shown = json.loads(run("domain", "show", "xn--bcher-kva.example", "--json"))
    assert shown["display_name"] == "bücher.example" and shown["mailboxes"] == 0
    listed = json.loads(run("domain", "list", "--json"))
    assert [d["name"] for d in listed] == ["xn--bcher-kva.example"]
    assert "xn--bcher-kva.example" in run("domain", "list")
    assert "deleted domain" in run("domain", "delete", "bücher.example")
    assert not Domain.objects.exists()
    assert AuditEntry.objects.filter(actor__isnull=True, actor_label__startswith="cli").count() == 3


def test_domain_errors_are_clear():
    run("domain", "add", "example.org")
    with pytest.raises(CommandError, match="already exists"):
        run("domain", "add", "EXAMPLE.org")
    with pytest.raises(CommandError, match="not a valid domain name"):
        run("domain", "add", "bad_domain.example")
    with pytest.raises(CommandError, match="does not exist"):
        run("domain", "show", "missing.example")
    with pytest.raises(CommandError, match="nothing to change"):
        run("domain", "update", "example.org")
    with pytest.raises(CommandError, match="is not a size"):
        run("domain", "add", "other.example", "--quota", "lots")


def test_mailbox_lifecycle():
    run("domain", "add", "example.org", "--default-quota", "1G")
    out = run("mailbox", "add", "John@Example.org", "--name", "John", "--password-stdin", stdin="secret-pass-1\n")
    assert "created mailbox john@example.org" in out
    mailbox = Mailbox.objects.get()
    assert verify_argon2id(mailbox.password, "secret-pass-1") and mailbox.quota_bytes == 1024**3
    out = run("mailbox", "add", "gen@example.org", "--generate-password", "--quota", "0")
    generated = out.split("password: ")[1].strip()
    assert verify_argon2id(Mailbox.objects.get(address="gen@example.org").password, generated)
    run("mailbox", "passwd", "john@example.org", "--password-stdin", stdin="another-pass-2\n")
    mailbox.refresh_from_db()
    assert verify_argon2id(mailbox.password, "another-pass-2")
    run("mailbox", "update", "john@example.org", "--quota", "2G", "--inactive")
    mailbox.refresh_from_db()
    assert mailbox.quota_bytes == 2 * 1024**3 and not mailbox.active
    assert "forwards to john@example.org, j@elsewhere.example" in run(
        "mailbox", "forward", "john@example.org", "j@elsewhere.example", "--keep-copy")
    shown = json.loads(run("mailbox", "show", "john@example.org", "--json"))
    assert shown["forwarding"] == ["john@example.org", "j@elsewhere.example"] and shown["used_bytes"] == 0
    assert "forwarding off" in run("mailbox", "forward", "john@example.org")
    listed = json.loads(run("mailbox", "list", "--domain", "example.org", "--json"))
    assert [m["address"] for m in listed] == ["gen@example.org", "john@example.org"]
    run("mailbox", "delete", "gen@example.org")
    assert Mailbox.objects.count() == 1
    # No audit entry ever holds a password.
    assert not any("pass-" in str(e.before) + str(e.after) for e in AuditEntry.objects.all())


def test_mailbox_errors():
    run("domain", "add", "example.org", "--max-mailboxes", "1")
    with pytest.raises(CommandError, match="does not exist"):
        run("mailbox", "add", "a@missing.example", "--generate-password")
    with pytest.raises(CommandError, match="not a valid address name"):
        run("mailbox", "add", "a b@example.org", "--generate-password")
    with pytest.raises(CommandError, match="standard input held no password"):
        run("mailbox", "add", "a@example.org", "--password-stdin", stdin="\n")
    run("mailbox", "add", "a@example.org", "--generate-password")
    with pytest.raises(CommandError, match="Mailbox limit reached"):
        run("mailbox", "add", "b@example.org", "--generate-password")
    assert Mailbox.objects.count() == 1


def test_alias_and_catchall_and_alias_domain():
    run("domain", "add", "example.org")
    run("mailbox", "add", "john@example.org", "--generate-password")
    out = run("alias", "add", "Team@example.org", "john@example.org", "Ext@Elsewhere.example")
    assert "team@example.org -> john@example.org, ext@elsewhere.example" in out
    run("alias", "add", "@example.org", "john@example.org")
    assert Alias.objects.get(address="@example.org").destinations == ["john@example.org"]
    run("alias", "update", "team@example.org", "--remove", "ext@elsewhere.example", "--add", "x@y.example")
    assert Alias.objects.get(address="team@example.org").destinations == ["john@example.org", "x@y.example"]
    run("alias", "update", "@example.org", "--inactive")
    assert not Alias.objects.get(address="@example.org").active
    listed = json.loads(run("alias", "list", "--json"))
    assert {a["address"] for a in listed} == {"@example.org", "team@example.org"}
    with pytest.raises(CommandError, match="is a mailbox"):
        run("alias", "add", "john@example.org", "x@y.example")
    run("alias", "delete", "team@example.org")
    run("aliasdomain", "add", "example.net", "example.org")
    assert AliasDomain.objects.get().target.name == "example.org"
    assert json.loads(run("aliasdomain", "list", "--json")) == [
        {"alias_domain": "example.net", "unicode": "example.net", "target_domain": "example.org", "active": True,
         "approved": True}]
    run("aliasdomain", "update", "example.net", "--inactive")
    run("aliasdomain", "delete", "example.net")
    assert not AliasDomain.objects.exists()
    with pytest.raises(CommandError, match="does not exist"):
        run("aliasdomain", "add", "x.example", "missing.example")


@pytest.mark.django_db(transaction=True)
def test_cli_process_exit_codes_and_stderr():
    """As a script sees it: status 0 on success, non-zero with the reason on stderr otherwise."""
    db = connection.settings_dict
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               DJANGO_SETTINGS_MODULE="mailadmin.settings_test")

    def cli(*args, stdin=""):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    ok = cli("domain", "add", "script.example")
    assert ok.returncode == 0, ok.stderr
    dup = cli("domain", "add", "script.example")
    assert dup.returncode != 0 and "already exists" in dup.stderr and "Traceback" not in dup.stderr
    bad = cli("mailbox", "add", "x@script.example", "--quota", "12Q", "--generate-password")
    assert bad.returncode == 2 and "is not a size" in bad.stderr
    missing = cli("mailbox", "add", "x@script.example")
    assert missing.returncode == 2 and "--password-stdin" in missing.stderr
    made = cli("mailbox", "add", "x@script.example", "--password-stdin", stdin="pw-from-stdin\n")
    assert made.returncode == 0 and "pw-from-stdin" not in made.stdout + made.stderr
    assert Mailbox.objects.filter(address="x@script.example").exists()
