"""The benchmark seeder builds a consistent dataset (small, here) that the constraints accept."""
import pytest

from domains.models import Alias, AliasDomain, Domain, Mailbox, QuotaUsage

pytestmark = pytest.mark.django_db


def test_seed_small_dataset():
    from bench.seed import BIG_DOMAIN, seed

    counts = seed(domains=20, mailboxes=500, big=100)
    assert counts["domain"] == 20 and counts["mailbox"] == 500 and counts["quota_usage"] == 500
    assert Mailbox.objects.filter(domain__name=BIG_DOMAIN).count() == 100
    assert Domain.objects.filter(mailboxes__isnull=True).count() == 0
    assert Alias.objects.filter(address__startswith="@").count() == 2
    assert AliasDomain.objects.count() == 2
    assert QuotaUsage.objects.filter(updated_at__isnull=True).count() == 25
