"""DNS fixtures, shared by tests/dnscheck and the browser tests (import them by name)."""
import shutil

import pytest

from .dns_server import IDENTITY, SilentServer, TruncatingServer, start_knot


@pytest.fixture(scope="session")
def dns_server():
    server, workdir = start_knot()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def resolver(dns_server):
    return dns_server.resolver()


@pytest.fixture
def dns_settings(settings, dns_server):
    """Point the panel's own resolver (commands, views) at the test server, and give the
    mail server the test identity."""
    settings.MAILADMIN_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.MAILADMIN_DNS_PORT = dns_server.port
    settings.MAILADMIN_DNS_TIMEOUT = 1.0
    settings.MAILADMIN_MX_HOSTS = list(IDENTITY.mx_hosts)
    settings.MAILADMIN_PUBLIC_IPV4 = list(IDENTITY.ipv4)
    settings.MAILADMIN_PUBLIC_IPV6 = list(IDENTITY.ipv6)
    settings.MAILADMIN_DMARC_REPORT_ADDRESS = IDENTITY.dmarc_report_address
    settings.MAILADMIN_DKIM_SELECTOR_FORMAT = "mail%Y%m"
    return settings


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def truncating_server():
    server = TruncatingServer()
    yield server
    server.close()
