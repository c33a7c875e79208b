"""Limits and uniqueness hold when many requests write at once (threads, real PostgreSQL)."""
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from domains import services
from domains.models import Alias, AliasDomain, Domain, Mailbox

pytestmark = pytest.mark.django_db(transaction=True)

G = 1024**3


def run_concurrently(count: int, work) -> list:
    """Start `count` threads that call work(i) at the same moment; return their results or errors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_concurrent_mailbox_creations_respect_the_limit():
    domain = services.domain_create(name="race.example", max_mailboxes=5, acting_user=None)
    results = run_concurrently(20, lambda i: services.mailbox_create(
        domain=domain, local_part=f"user{i}", password="pw", acting_user=None))
    created = [r for r in results if isinstance(r, Mailbox)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 5 and len(refused) == 15
    assert all(e.code == "mailbox_limit_reached" for e in refused)
    assert Mailbox.objects.filter(domain=domain).count() == 5


def test_concurrent_quota_allocations_respect_the_domain_quota():
    domain = services.domain_create(name="quota-race.example", quota_bytes=5 * G, default_quota_bytes=1 * G,
                                    acting_user=None)
    results = run_concurrently(12, lambda i: services.mailbox_create(
        domain=domain, local_part=f"u{i}", password="pw", acting_user=None))
    assert sum(isinstance(r, Mailbox) for r in results) == 5
    assert sum(m.quota_bytes for m in Mailbox.objects.filter(domain=domain)) == 5 * G


def test_concurrent_alias_creations_respect_the_limit():
    domain = services.domain_create(name="alias-race.example", max_aliases=3, acting_user=None)
    results = run_concurrently(10, lambda i: services.alias_create(
        domain=domain, local_part=f"a{i}", destinations=["x@other.example"], acting_user=None))
    assert sum(isinstance(r, Alias) for r in results) == 3
    assert Alias.objects.filter(domain=domain).count() == 3


def test_same_address_as_mailbox_and_alias_at_once_only_one_wins():
    domain = services.domain_create(name="clash.example", acting_user=None)

    def work(i):
        if i % 2:
            return services.mailbox_create(domain=domain, local_part="info", password="pw", acting_user=None)
        return services.alias_create(domain=domain, local_part="info", destinations=["x@o.example"],
                                     acting_user=None)

    results = run_concurrently(10, work)
    winners = [r for r in results if isinstance(r, (Mailbox, Alias))]
    assert len(winners) == 1
    assert Mailbox.objects.filter(address="info@clash.example").count() + \
        Alias.objects.filter(address="info@clash.example").count() == 1


def test_domain_and_alias_domain_of_the_same_name_at_once_only_one_wins():
    target = services.domain_create(name="target.example", acting_user=None)

    def work(i):
        if i % 2:
            return services.domain_create(name="contested.example", acting_user=None)
        return services.alias_domain_create(name="contested.example", target=target, acting_user=None)

    results = run_concurrently(8, work)
    assert sum(isinstance(r, (Domain, AliasDomain)) for r in results) == 1
    assert Domain.objects.filter(name="contested.example").count() + \
        AliasDomain.objects.filter(name="contested.example").count() == 1


def test_two_aliases_naming_each_other_from_two_domains_at_once_cannot_both_commit():
    # Each write locks its own domain only; without a lock shared by routing writes, each
    # checks a state without the other's uncommitted alias, and both commit a loop.
    one = services.domain_create(name="one.example", acting_user=None)
    two = services.domain_create(name="two.example", acting_user=None)
    first_written, second_done = threading.Event(), threading.Event()
    errors: dict = {}

    def first():
        try:
            with transaction.atomic():
                services.alias_create(domain=one, local_part="x", destinations=["y@two.example"], acting_user=None)
                first_written.set()
                second_done.wait(3)   # with the lock, the second write waits for this commit
        except Exception as exc:  # collected and asserted on below
            errors["first"] = exc
        finally:
            connection.close()

    def second():
        first_written.wait(10)
        try:
            services.alias_create(domain=two, local_part="y", destinations=["x@one.example"], acting_user=None)
        except Exception as exc:  # collected and asserted on below
            errors["second"] = exc
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert "first" not in errors
    assert isinstance(errors.get("second"), ValidationError) and "loop" in str(errors["second"])
    assert list(Alias.objects.filter(address__in=["x@one.example", "y@two.example"])
                .values_list("address", flat=True)) == ["x@one.example"]
