"""DKIM key services, and running checks end to end against the loopback Knot server."""
import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError
from django.utils import timezone

from audit.models import AuditEntry
from dnscheck import services
from dnscheck.checks import ERROR, OK, UNKNOWN
from dnscheck.models import DkimKey, DnsCheckRun
from dnscheck.records import zone_snippet
from dnscheck.selectors import active_dkim_keys
from tests.factories import DomainFactory

from .dns_server import IDENTITY

pytestmark = pytest.mark.django_db

MESSAGE = (b"From: Alice <alice@dkim.test>\r\nTo: bob@example.org\r\nSubject: hello\r\n"
           b"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@dkim.test>\r\n\r\nHi Bob.\r\n")


def dnsfunc_for(dns_server):
    """dkimpy's TXT lookup, answered by the test server (never the system resolver)."""
    resolver = dns_server.resolver()

    def get_txt(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        answer = resolver.resolve(name, "TXT", search=False)
        return b"".join(answer.rrset[0].strings)

    return get_txt


def sign(key: DkimKey, message: bytes) -> bytes:
    if key.algorithm == DkimKey.Algorithm.ED25519:
        private = serialization.load_pem_private_key(key.private_key.encode(), password=None)
        seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
        return dkim.sign(message, key.selector.encode(), key.domain.name.encode(), base64.b64encode(seed),
                         signature_algorithm=b"ed25519-sha256")
    return dkim.sign(message, key.selector.encode(), key.domain.name.encode(), key.private_key.encode())


@pytest.mark.parametrize("algorithm", [DkimKey.Algorithm.RSA_2048, DkimKey.Algorithm.ED25519])
def test_generated_key_signs_mail_that_verifies_against_the_published_record(
        dns_server, dns_settings, superadmin, algorithm):
    settings = dns_settings
    settings.MAILADMIN_DKIM_SELECTOR_FORMAT = f"e2e-{algorithm}"
    domain = DomainFactory(name="dkim.test")
    key = services.dkim_key_generate(domain=domain, algorithm=algorithm, acting_user=superadmin)
    dns_server.publish("dkim.test", zone_snippet("dkim.test", IDENTITY, [key]))

    signature = sign(key, MESSAGE)
    assert dkim.verify(signature + MESSAGE, dnsfunc=dnsfunc_for(dns_server))
    # Tampering breaks it: the verification really used the key from the DNS.
    assert not dkim.verify(signature + MESSAGE.replace(b"Hi Bob", b"Hi Eve"), dnsfunc=dnsfunc_for(dns_server))

    run = services.dns_check_run(domain=domain, acting_user=superadmin, resolver=dns_server.resolver(),
                                 identity=IDENTITY)
    assert run.results.get(check_name="dkim").status == OK


def test_key_published_for_another_key_fails_verification_and_check(dns_server, dns_settings, superadmin):
    dns_settings.MAILADMIN_DKIM_SELECTOR_FORMAT = "swapped"
    domain = DomainFactory(name="dkim.test")
    key = services.dkim_key_generate(domain=domain, acting_user=superadmin)
    other = DkimKey(domain=domain, selector="swapped", public_key=services._new_key_pair("rsa-2048")[1])
    dns_server.publish("dkim.test", zone_snippet("dkim.test", IDENTITY, [other]))

    assert not dkim.verify(sign(key, MESSAGE) + MESSAGE, dnsfunc=dnsfunc_for(dns_server))
    run = services.dns_check_run(domain=domain, acting_user=superadmin, resolver=dns_server.resolver(),
                                 identity=IDENTITY)
    assert run.results.get(check_name="dkim").status == ERROR


def test_rsa_key_is_2048_bits_and_public_key_matches(superadmin, dns_settings):
    key = services.dkim_key_generate(domain=DomainFactory(), acting_user=superadmin)
    private = serialization.load_pem_private_key(key.private_key.encode(), password=None)
    assert private.key_size == 2048
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    assert base64.b64decode(key.public_key) == der
    assert key.txt_value.startswith("v=DKIM1; k=rsa; p=MIIBIjAN")


def test_rotation_makes_a_new_selector_and_keeps_the_old_key_until_retired(superadmin, dns_settings):
    dns_settings.MAILADMIN_DKIM_SELECTOR_FORMAT = "mail%Y%m"
    domain = DomainFactory()
    first = services.dkim_key_generate(domain=domain, acting_user=superadmin)
    second = services.dkim_key_generate(domain=domain, algorithm="ed25519", acting_user=superadmin)
    assert first.selector == timezone.now().strftime("mail%Y%m")
    assert second.selector == first.selector + "-2"
    assert [k.pk for k in active_dkim_keys(domain)] == [second.pk, first.pk]

    services.dkim_key_retire(key=first, acting_user=superadmin)
    first.refresh_from_db()
    assert not first.active
    assert active_dkim_keys(domain) == [second]
    actions = list(AuditEntry.objects.filter(domain_name=domain.name).order_by("id").values_list("action", flat=True))
    assert actions == ["dkim.generate", "dkim.rotate", "dkim.retire"]


def test_private_keys_are_never_audited(superadmin, dns_settings):
    key = services.dkim_key_generate(domain=DomainFactory(), acting_user=superadmin)
    services.dkim_key_retire(key=key, acting_user=superadmin)
    secret_line = key.private_key.splitlines()[1]
    for entry in AuditEntry.objects.all():
        assert "private_key" not in str(entry.before) + str(entry.after)
        assert secret_line not in str(entry.before) + str(entry.after)


def test_selector_is_unique_per_domain_in_the_database(dns_settings, superadmin):
    key = services.dkim_key_generate(domain=DomainFactory(), acting_user=superadmin)
    with pytest.raises(IntegrityError):
        DkimKey.objects.create(domain=key.domain, selector=key.selector, private_key="x", public_key="y")


def test_check_run_is_stored_with_its_time_and_audited(dns_server, dns_settings, superadmin):
    domain = DomainFactory(name="servfail.test")
    run = services.dns_check_run(domain=domain, acting_user=superadmin)  # resolver from settings
    assert run.status == UNKNOWN
    assert run.created <= timezone.now()
    assert [r.check_name for r in run.results.order_by("position")] == [
        "mx", "spf", "dkim", "dmarc", "ptr", "mta_sts", "tls_rpt"]
    entry = AuditEntry.objects.get(action="dns.check")
    assert entry.actor == superadmin and entry.after["status"] == UNKNOWN
    assert DnsCheckRun.objects.filter(domain=domain).count() == 1
