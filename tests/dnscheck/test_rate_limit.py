"""The DNS check is rate-limited per domain (issue 11, low): concurrent runs for one domain
do not each hold a worker and write an audit row; a new run waits for the interval."""
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from dnscheck import services

from dnscheck.models import DnsCheckRun
from tests.factories import AdminFactory, DomainFactory

from .dns_server import IDENTITY, resolver_at


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_checks_of_one_domain_run_once(silent_server, settings):
    settings.DNSCHECK_MIN_INTERVAL = 0
    domain = DomainFactory(name="slow.test")
    outcomes, durations = [], []

    def check():
        started = time.monotonic()
        try:
            services.dns_check_run(domain=domain, acting_user=None, identity=IDENTITY,
                                   resolver=resolver_at(silent_server.port, lifetime=1.5))
            outcomes.append("ran")
        except services.DnsCheckBusy as exc:
            outcomes.append(exc.code)
        finally:
            durations.append((outcomes[-1] if outcomes else "?", time.monotonic() - started))
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ran") == 1 and outcomes.count("dns_check_running") == 19
    # The refused ones answered at once instead of holding a worker for the DNS timeout.
    assert max(d for outcome, d in durations if outcome == "dns_check_running") < 1.0
    assert DnsCheckRun.objects.filter(domain=domain).count() == 1
    assert AuditEntry.objects.filter(action="dns.check").count() == 1


@pytest.mark.django_db
def test_a_new_check_waits_for_the_interval_and_the_view_says_so(silent_server, settings):
    settings.DNSCHECK_MIN_INTERVAL = 60
    domain = DomainFactory(name="slow.test")
    services.dns_check_run(domain=domain, acting_user=None, identity=IDENTITY,
                           resolver=resolver_at(silent_server.port, lifetime=0.2))
    with pytest.raises(services.DnsCheckBusy) as caught:
        services.dns_check_run(domain=domain, acting_user=None, identity=IDENTITY,
                               resolver=resolver_at(silent_server.port, lifetime=0.2))
    assert caught.value.code == "dns_check_too_soon"
    client = Client()
    client.force_login(AdminFactory(domains=[domain]))
    response = client.post(reverse("dnscheck:check", args=[domain.pk]), follow=True)
    assert response.status_code == 200 and "checked moments ago" in response.content.decode()
    response = client.post(reverse("dnscheck:check", args=[domain.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200 and "checked moments ago" in response.content.decode()
    assert DnsCheckRun.objects.filter(domain=domain).count() == 1
    assert AuditEntry.objects.filter(action="dns.check").count() == 1
    # Another domain is not held back.
    other = DomainFactory(name="other.test")
    services.dns_check_run(domain=other, acting_user=None, identity=IDENTITY,
                           resolver=resolver_at(silent_server.port, lifetime=0.2))
