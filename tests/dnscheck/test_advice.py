"""DNS advice is stored as message ids and parameters and read in the reader's language
(issue 16, defect 5: an English admin read French advice stored by a French admin)."""
import importlib

import pytest
from django.urls import reverse
from django.utils import translation

from dnscheck import services
from dnscheck.advice import Advice, render
from dnscheck.models import DnsCheckResult
from tests.factories import DomainFactory

from .dns_server import IDENTITY

pytestmark = pytest.mark.django_db

migration = importlib.import_module("dnscheck.migrations.0002_advice_as_codes")


def test_advice_run_in_french_reads_in_english_and_back(dns_server, dns_settings, superadmin):
    domain = DomainFactory(name="mx-none.cases.test")
    with translation.override("fr"):
        run = services.dns_check_run(domain=domain, acting_user=superadmin, resolver=dns_server.resolver(),
                                     identity=IDENTITY)
    mx = DnsCheckResult.objects.get(run=run, check_name="mx")
    # Stored as the English message id with its parameters, whatever the runner's language.
    assert mx.advice[0]["msgid"].startswith("%(domain)s has no MX record")
    assert mx.advice[0]["params"]["domain"] == "mx-none.cases.test"
    with translation.override("en"):
        assert "mx-none.cases.test has no MX record" in mx.explanation
    with translation.override("fr"):
        assert "has no MX record" not in mx.explanation


def test_dns_page_shows_advice_in_the_readers_language(dns_server, dns_settings, superadmin, client):
    domain = DomainFactory(name="mx-none.cases.test")
    with translation.override("fr"):
        services.dns_check_run(domain=domain, acting_user=superadmin, resolver=dns_server.resolver(),
                               identity=IDENTITY)
    client.force_login(superadmin)
    english = client.get(reverse("dnscheck:domain", args=[domain.pk]), headers={"Accept-Language": "en"})
    assert "mx-none.cases.test has no MX record" in english.content.decode()


def test_nested_advice_and_numbers_survive_storage():
    reason = Advice("The include/redirect chain loops.")
    outer = Advice("The SPF record is invalid (%(reason)s); receivers treat it as “permerror”, "
                   "as if there were none. Fix it as shown below.") % {"reason": Exception(reason)}
    stored = [outer.as_json(), (Advice("It needs %(count)d of the %(max)d allowed DNS lookups.")
                                % {"count": 3, "max": 10}).as_json()]
    with translation.override("en"):
        text = render(stored)
    assert "invalid (The include/redirect chain loops.)" in text and "It needs 3 of the 10" in text
    with translation.override("fr"):
        assert "The include/redirect chain loops." not in render(stored)


def test_migration_turns_stored_text_back_into_codes():
    patterns = migration._patterns()
    with translation.override("fr"):
        french = str(Advice("%(domain)s has no MX record, so other servers fall back to its A record "
                            "(or give up). Publish “MX 10 %(ours)s.”.") % {"domain": "a.example", "ours": "mx.b.example"})
        french += " " + str(Advice("It needs %(count)d of the %(max)d allowed DNS lookups.") % {"count": 2, "max": 10})
    advice = migration._parse(french, patterns)
    assert advice is not None and len(advice) == 2
    assert advice[0]["params"] == {"domain": "a.example", "ours": "mx.b.example"}
    assert advice[1]["params"] == {"count": 2, "max": 10}
    with translation.override("en"):
        assert render(advice).startswith("a.example has no MX record")
    # Text that is no known sentence stays as it was.
    assert migration._parse("Something the panel never said.", patterns) is None
