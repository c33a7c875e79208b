"""Quota usage reads, scoped by role. Usage comes from quota_usage, which Dovecot writes;
fill_ratio (bytes / quota, NULL when unlimited) is kept by triggers and indexed for sorting."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Sum

from domains.models import Domain, Mailbox, QuotaUsage, domain_of_username
from domains.selectors import any_term_matches, domain_ids_for, domains_for, scope_cache_key

THRESHOLDS = {"80": 0.80, "90": 0.90, "95": 0.95, "100": 1.0}
SORTS = {
    "fullest": (F("fill_ratio").desc(nulls_last=True), "mailbox_id"),
    "emptiest": (F("fill_ratio").asc(nulls_first=True), "mailbox_id"),
    "address": ("mailbox_id",),
    "-address": ("-mailbox_id",),
    "used": ("-bytes", "mailbox_id"),
    "-used": ("bytes", "mailbox_id"),
    "messages": ("-messages", "mailbox_id"),
    "-messages": ("messages", "mailbox_id"),
    "quota": ("-mailbox__quota_bytes", "mailbox_id"),
    "-quota": ("mailbox__quota_bytes", "mailbox_id"),
    "updated": (F("updated_at").desc(nulls_last=True), "mailbox_id"),
}
FILTERS = ("all", "80", "90", "95", "100", "unlimited", "never")


@dataclass(frozen=True)
class UsageQuery:
    domain: Domain | None = None
    filter: str = "all"
    search: str = ""
    sort: str = "fullest"


def _scoped(rows: QuerySet[QuotaUsage], user) -> QuerySet[QuotaUsage]:
    # A superadmin sees everything: no `domain IN (all domains)` filter, which would cost the
    # planner its index-ordered scan over 100,000 rows.
    if getattr(user, "is_superadmin", False) and user.is_active:
        return rows
    return rows.filter(mailbox__domain_id__in=domain_ids_for(user))


def usage_for(user, query: UsageQuery = UsageQuery(), *, all_domains: bool = False) -> QuerySet[QuotaUsage]:
    """Usage rows (with their mailbox and domain) the user may see, filtered and sorted.

    `all_domains` is for the CLI, which acts with full scope."""
    rows = QuotaUsage.objects.select_related("mailbox", "mailbox__domain")
    if not all_domains:
        rows = _scoped(rows, user)
    if query.domain is not None:
        rows = rows.filter(mailbox__domain=query.domain)
    if query.filter in THRESHOLDS:
        rows = rows.filter(fill_ratio__gte=THRESHOLDS[query.filter])
    elif query.filter == "unlimited":
        rows = rows.filter(mailbox__quota_bytes=0)
    elif query.filter == "never":
        rows = rows.filter(updated_at__isnull=True)
    if query.search:
        # A subquery on mailbox, whose trigram indexes serve upper(address|name) LIKE '%x%'.
        # (mailbox__address__icontains would compare quota_usage.username, the FK column,
        # which has no such index: a scan of every usage row.)
        term = query.search.strip()
        rows = rows.filter(mailbox__in=Mailbox.objects.filter(any_term_matches(term, "address") | Q(name__icontains=term))
                           .values("address"))
    return rows.order_by(*SORTS.get(query.sort, SORTS["fullest"]))


def over_threshold(ratio: float, *, all_domains: bool = True, user=None, domain: Domain | None = None):
    rows = QuotaUsage.objects.select_related("mailbox", "mailbox__domain").filter(fill_ratio__gte=ratio)
    if not all_domains:
        rows = rows.filter(mailbox__domain_id__in=domain_ids_for(user))
    if domain is not None:
        rows = rows.filter(mailbox__domain=domain)
    return rows.order_by(F("fill_ratio").desc(nulls_last=True), "mailbox_id")


def _for_domain(rows: QuerySet[QuotaUsage], domain: Domain) -> QuerySet[QuotaUsage]:
    # By the domain part of the username (indexed), not by a join through 20,000 mailboxes.
    return rows.alias(domain_name=domain_of_username()).filter(domain_name=domain.name)


def domain_summaries(user, domain: Domain | None = None, overview: dict | None = None) -> list[Domain]:
    """The user's domains (or one of them), each with mailbox_count, allocated,
    unlimited_count, used and message_count.

    For one domain, the figures of its usage_overview() (cached for USAGE_CACHE_SECONDS;
    `overview` when the caller has read it already). For all of them, two grouped queries
    rather than one join of mailboxes and usage rows (20,000 index lookups for a big domain):
    the mailbox figures come from the covering index on mailbox(domain_id), the usage ones
    from quota_usage's index on the username's domain."""
    domains = domains_for(user)
    if domain is not None:
        domains = domains.filter(pk=domain.pk)
    domains = list(domains.order_by("name"))
    if domain is not None and domains:
        summary = (overview or usage_overview(user, domain))["summary"]
        for name, value in summary.items():
            setattr(domains[0], name, value)
        return domains
    by_domain = _mailbox_figures([d.pk for d in domains])
    by_name = _stored_by_domain_name([d.name for d in domains])
    none = dict.fromkeys(("mailbox_count", "allocated", "unlimited_count", "used", "message_count"), 0)
    for d in domains:
        for name, value in (none | by_domain.get(d.pk, {}) | by_name.get(d.name, {})).items():
            setattr(d, name, value)
    return domains


def _mailbox_figures(domain_ids: list[int]) -> dict[int, dict]:
    """{domain id: {"mailbox_count", "allocated" (bytes), "unlimited_count"}}."""
    return {row.pop("domain"): row for row in (
        Mailbox.objects.filter(domain__in=domain_ids).values("domain")
        .annotate(mailbox_count=Count("*"), allocated=Sum("quota_bytes"),
                  unlimited_count=Count("domain", filter=Q(quota_bytes=0))))}


def _stored_by_domain_name(names: list[str]) -> dict[str, dict]:
    """{domain name: {"used": bytes, "message_count": n}} from the usage rows Dovecot writes."""
    return {row.pop("domain_name"): row for row in (
        QuotaUsage.objects.annotate(domain_name=domain_of_username())
        .filter(domain_name__in=names).values("domain_name")
        .annotate(used=Sum("bytes"), message_count=Sum("messages")))}


def fullness_histogram(user, domain: Domain | None = None) -> dict[str, int]:
    """Mailboxes per fullness bucket (0-10 %, ..., 90-100 %, over 100 %), plus unlimited."""
    rows = _scoped(QuotaUsage.objects.all(), user)
    if domain is not None:
        rows = _for_domain(rows, domain)
    buckets = {f"b{i}": Count("pk", filter=Q(fill_ratio__gte=i / 10, fill_ratio__lt=(i + 1) / 10))
               for i in range(10)}
    buckets["over"] = Count("pk", filter=Q(fill_ratio__gte=1))
    buckets["unlimited"] = Count("pk", filter=Q(fill_ratio__isnull=True))
    return rows.aggregate(**buckets)


def top_fullest(user, domain: Domain | None = None, limit: int = 10) -> list[QuotaUsage]:
    return list(usage_for(user, UsageQuery(domain=domain)).filter(fill_ratio__isnull=False)[:limit])


USAGE_CACHE_SECONDS = 30


def usage_overview(user, domain: Domain | None = None, limit: int = 10) -> dict:
    """The usage figures of the user's scope, or of one of its domains, as the charts show them:
    {"histogram": fullness_histogram(), "top": [{"address": display address, "fill_ratio": float}]
    for the `limit` fullest mailboxes, "domain_pk": the domain's pk or None}, and with a domain,
    "summary": its mailbox_count, allocated (bytes), unlimited_count, used (bytes) and
    message_count, as domain_summaries() gives them.

    Recomputed at most every USAGE_CACHE_SECONDS per scope and domain, in the cache that every
    panel node shares (settings.CACHES): each figure reads every usage or mailbox row of the
    scope (20,000 for a big domain, 100,000 for a superadmin), usage already lags what Dovecot
    writes, and the pages say the totals refresh every 30 seconds. Only display values are
    cached, never a row with its password hash. The caller has checked that `domain` is within
    the user's scope."""
    key = f"usage:{scope_cache_key(user)}:{getattr(domain, 'pk', '')}:{limit}"
    overview = cache.get(key)
    if overview is None:
        overview = {"domain_pk": getattr(domain, "pk", None), "histogram": fullness_histogram(user, domain),
                    "top": [{"address": row.mailbox.display_address, "fill_ratio": row.fill_ratio}
                            for row in top_fullest(user, domain, limit)]}
        if domain is not None:
            summary = dict.fromkeys(("mailbox_count", "allocated", "unlimited_count", "used", "message_count"), 0)
            summary |= _mailbox_figures([domain.pk]).get(domain.pk, {})
            summary |= _stored_by_domain_name([domain.name]).get(domain.name, {})
            overview["summary"] = {name: value or 0 for name, value in summary.items()}
        cache.set(key, overview, USAGE_CACHE_SECONDS)
    return overview
