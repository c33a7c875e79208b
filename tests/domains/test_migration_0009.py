"""Migration domains 0009 on a database from before it, holding address names the stack cannot serve:
it refuses cleanly, changes nothing, names every address and the fix; after `manage.py unserved
--rename`, the same upgrade goes through."""
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# Everything of this release but the constraint: what `migrate` has applied when 0009 refuses.
BEFORE = [("domains", "0008_alias_destination_stems"), ("mailaccess", "0001_app_passwords_and_sender_grants"),
          ("vacation", "0001_initial")]
TARGET = ("domains", "0009_local_parts_the_stack_serves")


def constraint_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.fixture
def old_database():
    """The schema before 0009, with the rows an older panel accepted; the full schema again afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Domain, Mailbox, Alias = (apps.get_model("domains", name) for name in ("Domain", "Mailbox", "Alias"))
    domain = Domain.objects.create(name="old.example")
    for local_part in ("bob!x", "ok.name", "-dash"):
        Mailbox.objects.create(domain=domain, local_part=local_part, address=f"{local_part}@old.example",
                               password="{ARGON2ID}x", maildir=f"old.example/{local_part}/")
    Alias.objects.create(domain=domain, address="sales%eu@old.example", destinations=["ok.name@old.example"])
    Alias.objects.create(domain=domain, address="team@old.example", destinations=["sales%eu@old.example",
                                                                                  "bob!x@old.example"])
    Alias.objects.create(domain=domain, address="@old.example", destinations=["ok.name@old.example"])
    yield
    call_command("migrate", verbosity=0)


def test_upgrade_refuses_listing_unserved_addresses_then_passes_after_renames(old_database):
    with pytest.raises(CommandError) as refused:
        call_command("migrate", *TARGET, verbosity=0)
    message = str(refused.value)
    assert message.startswith("3 address(es) have a name Postfix and Dovecot cannot serve")
    for line in ("  mailbox -dash@old.example", "  mailbox bob!x@old.example", "  alias sales%eu@old.example"):
        assert line in message
    assert "ok.name" not in message and "team@" not in message
    assert "python manage.py unserved --rename '-dash@old.example' NEW_NAME" in message
    # Nothing changed: 0009 is not recorded and the old constraint set is intact.
    assert TARGET not in MigrationExecutor(connection).loader.applied_migrations
    assert "alias_local_part_served" not in constraint_names("alias")

    listed = io.StringIO()
    call_command("unserved", stdout=listed)
    assert listed.getvalue().splitlines() == [
        "mailbox\t-dash@old.example", "mailbox\tbob!x@old.example", "alias\tsales%eu@old.example",
        "3 address(es) the mail stack cannot serve: rename each with `manage.py unserved --rename ADDRESS NEW_NAME`"]
    with pytest.raises(CommandError, match="cannot be served"):
        call_command("unserved", rename=["bob!x@old.example", "bob|y"])
    with pytest.raises(CommandError, match="already a mailbox or an alias"):
        call_command("unserved", rename=["bob!x@old.example", "ok.name"])
    for address, name in (("-dash@old.example", "dash"), ("bob!x@old.example", "bob.x"),
                          ("sales%eu@old.example", "sales-eu")):
        call_command("unserved", rename=[address, name], stdout=io.StringIO())

    call_command("migrate", *TARGET, verbosity=0)
    assert "alias_local_part_served" in constraint_names("alias")
    from domains.models import Alias, Mailbox

    assert sorted(Mailbox.objects.values_list("address", flat=True)) == [
        "bob.x@old.example", "dash@old.example", "ok.name@old.example"]
    # The alias naming the renamed ones follows them.
    assert Alias.objects.get(address="team@old.example").destinations == ["sales-eu@old.example", "bob.x@old.example"]
