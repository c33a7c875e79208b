"""Reads for the DNS pages and the domain list badge."""
from __future__ import annotations

from django.http import Http404
from django.db.models import OuterRef, QuerySet, Subquery

from domains.models import Domain

from .models import DkimKey, DnsCheckRun


def with_dns_status(domains: QuerySet[Domain]) -> QuerySet[Domain]:
    """Annotate each domain with its latest check's status and time (`dns_status`,
    `dns_checked_at`), in the same query, so a page of badges costs no extra query."""
    latest = DnsCheckRun.objects.filter(domain=OuterRef("pk")).order_by("-created", "-id")
    return domains.annotate(
        dns_status=Subquery(latest.values("status")[:1]),
        dns_checked_at=Subquery(latest.values("created")[:1]),
    )


def latest_run(domain: Domain) -> DnsCheckRun | None:
    return (DnsCheckRun.objects.filter(domain=domain).prefetch_related("results")
            .order_by("-created", "-id").first())


def active_dkim_keys(domain: Domain) -> list[DkimKey]:
    """The keys to publish and check, newest (the signing one) first."""
    # SECURITY: public keys only; the private key stays in the database.
    return list(DkimKey.objects.filter(domain=domain, retired__isnull=True).defer("private_key")
                .order_by("-created", "-id"))


def dkim_keys_for(domain: Domain) -> QuerySet[DkimKey]:
    # SECURITY: the private key never leaves the database for a page.
    return DkimKey.objects.filter(domain=domain).defer("private_key").order_by("retired", "-created", "-id")


def get_dkim_key_for_domain(domain: Domain, pk) -> DkimKey:
    try:
        return DkimKey.objects.select_related("domain").defer("private_key").get(domain=domain, pk=pk)
    except (DkimKey.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
