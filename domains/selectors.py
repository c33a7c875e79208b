"""Reads scoped by role, and access helpers that fetch and authorize in one call.

Every view goes through these, so no view can forget the domain scope: a domain admin
only ever sees the domains in `admin.domains`; asking for anything else is a 404, never a
hint that the object exists.
"""
from __future__ import annotations

import datetime
import hashlib

from django.core.cache import cache
from django.db.models import CharField, Count, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Upper
from django.http import Http404
from django.utils import timezone

from accounts.models import Admin

from .addresses import search_terms
from .models import Alias, AliasDomain, Domain, Mailbox, QuotaUsage


def any_term_matches(query: str, field: str) -> Q:
    """`field` contains the query as typed or its punycode form (addresses.search_terms):
    IDN domains and addresses are found by their Unicode name too."""
    match = Q()
    for term in search_terms(query):
        match |= Q(**{f"{field}__icontains": term})
    return match


def domains_for(user: Admin) -> QuerySet[Domain]:
    if not getattr(user, "is_authenticated", False) or not isinstance(user, Admin) or not user.is_active:
        return Domain.objects.none()
    if user.is_superadmin:
        return Domain.objects.all()
    return Domain.objects.filter(admins=user)


def _sees_everything(user: Admin) -> bool:
    return isinstance(user, Admin) and user.is_authenticated and user.is_active and user.is_superadmin


def domain_ids_for(user: Admin) -> list[int]:
    """The ids of the domains `user` administers, as a list (one small query).

    Scoped lists filter on this list rather than on a `domain IN (SELECT ...)` subquery:
    PostgreSQL plans the subquery for an average domain (about 100 mailboxes), so a domain
    admin's 20,000-mailbox list sorted all 20,000 rows (75 ms); with the ids as constants it
    uses the column statistics and reads the first page from the address index (0.2 ms)."""
    return list(domains_for(user).values_list("pk", flat=True))


def scope_cache_key(user: Admin) -> str:
    """What a cached figure of `user`'s scope is filed under: "all" for a superadmin, else the
    admin and the domains they hold now, so that figures cached before a superadmin took a
    domain away from them are never shown to them again."""
    if _sees_everything(user):
        return "all"
    ids = ",".join(map(str, sorted(domain_ids_for(user))))
    return f"admin:{user.pk}:{hashlib.sha256(ids.encode()).hexdigest()[:16]}"


def mailboxes_for(user: Admin) -> QuerySet[Mailbox]:
    # A superadmin's scope is the whole table: no "domain IN (all domains)" semi-join to count through.
    if _sees_everything(user):
        return Mailbox.objects.all()
    return Mailbox.objects.filter(domain_id__in=domain_ids_for(user))


def aliases_for(user: Admin) -> QuerySet[Alias]:
    if _sees_everything(user):
        return Alias.objects.all()
    return Alias.objects.filter(domain_id__in=domain_ids_for(user))


def alias_domains_for(user: Admin) -> QuerySet[AliasDomain]:
    if _sees_everything(user):
        return AliasDomain.objects.all()
    return AliasDomain.objects.filter(target_id__in=domain_ids_for(user))


def _get(queryset: QuerySet, **lookup):
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_domain_for_admin(user: Admin, pk) -> Domain:
    return _get(domains_for(user), pk=pk)


def get_mailbox_for_admin(user: Admin, pk) -> Mailbox:
    return _get(mailboxes_for(user).select_related("domain"), pk=pk)


def get_alias_for_admin(user: Admin, pk) -> Alias:
    return _get(aliases_for(user).select_related("domain"), pk=pk)


def get_alias_domain_for_admin(user: Admin, pk) -> AliasDomain:
    return _get(alias_domains_for(user).select_related("target"), pk=pk)


# --- aliases and alias domains (lists) -------------------------------------------------

# Sort keys offered by the alias list: each maps to an ORDER BY the indexes serve.
ALIAS_SORTS = {
    "address": ("address",),
    "-address": ("-address",),
    "modified": ("modified", "address"),
    "-modified": ("-modified", "address"),
}


def alias_list(user: Admin, *, domain: Domain | None = None, query: str = "",
               active: bool | None = None, sort: str = "address") -> QuerySet[Alias]:
    """The admin's aliases (not mailbox forwardings), filtered and sorted, for a paginated table.

    `query` matches a substring of the address (trigram index on upper(address)) or of any
    destination ("bob" finds the aliases to bob@x.example), so "who forwards to bob?" is one
    search away. The destination substring scans the scope's aliases: no index serves a
    LIKE inside an array.
    """
    aliases = aliases_for(user).filter(mailbox__isnull=True).select_related("domain")
    if domain is not None:
        aliases = aliases.filter(domain=domain)
    terms = search_terms(query)
    if terms:
        # A part of the address or of any destination ("bob" finds the aliases to bob@x.example).
        destinations_text = Func(F("destinations"), Value(" "), function="array_to_string", output_field=CharField())
        match = Q()
        for term in terms:
            match |= Q(address_upper__contains=term.upper()) | Q(destinations_text__icontains=term)
        aliases = aliases.annotate(address_upper=Upper("address"), destinations_text=destinations_text).filter(match)
    if active is not None:
        aliases = aliases.filter(active=active)
    return aliases.order_by(*ALIAS_SORTS.get(sort, ALIAS_SORTS["address"]))


def alias_domain_list(user: Admin, *, domain: Domain | None = None, query: str = "",
                      pending: bool = False) -> QuerySet[AliasDomain]:
    """The admin's alias domains; `pending`: only the requests awaiting a superadmin's approval."""
    alias_domains = alias_domains_for(user).select_related("target")
    if domain is not None:
        alias_domains = alias_domains.filter(target=domain)
    if pending:
        alias_domains = alias_domains.filter(approved=False)
    if query.strip():
        alias_domains = alias_domains.filter(any_term_matches(query, "name"))
    return alias_domains.order_by("name")


def domains_holding_addresses(user: Admin) -> QuerySet[Domain]:
    """Domains where the admin may create aliases or point alias domains: not backup MX relays."""
    return domains_for(user).filter(backup_mx=False).order_by("name")


def alias_usage(domain: Domain) -> dict[str, int]:
    """How many aliases the domain has (forwardings do not count) against its limit (0 = none)."""
    return {"count": domain.aliases.filter(mailbox__isnull=True).count(), "max": domain.max_aliases}


def mailbox_usage(domain: Domain, count: int | None = None) -> dict:
    """How many mailboxes the domain has against its limit (0 = none), and whether it is full.
    `count` when the caller has it already (the domain list's annotation)."""
    count = domain.mailboxes.count() if count is None else count
    return {"count": count, "max": domain.max_mailboxes,
            "full": bool(domain.max_mailboxes) and count >= domain.max_mailboxes}


def address_owner(address: str) -> str | None:
    """What already holds this address: "mailbox", "alias", or None when it is free."""
    if Mailbox.objects.filter(address=address).exists():
        return "mailbox"
    if Alias.objects.filter(address=address).exists():
        return "alias"
    return None


def get_forwarding_for_mailbox(mailbox: Mailbox) -> Alias | None:
    return Alias.objects.filter(mailbox=mailbox).first()


def get_plain_alias_for_admin(user: Admin, pk) -> Alias:
    """An alias the alias pages may edit: a mailbox's forwarding is managed on its mailbox."""
    return _get(aliases_for(user).filter(mailbox__isnull=True).select_related("domain"), pk=pk)


# --- panel part A: dashboard, domain and mailbox lists ---------------------------------

DOMAIN_SORTS = {"name": "name", "-name": "-name", "mailboxes": "mailbox_count", "-mailboxes": "-mailbox_count",
                "created": "created", "-created": "-created"}
MAILBOX_SORTS = {"address": "address", "-address": "-address", "name": "name", "-name": "-name",
                 "quota": "quota_bytes", "-quota": "-quota_bytes", "used": "usage__bytes",
                 "-used": "-usage__bytes", "created": "created", "-created": "-created"}


def domain_list(user: Admin, *, query: str = "", sort: str = "name") -> QuerySet[Domain]:
    """Domains with their mailbox/alias counts and quota allocated, by correlated subqueries
    (one pass per page row, never a join over every mailbox)."""
    def count_of(model, **extra):
        return Coalesce(Subquery(model.objects.filter(domain=OuterRef("pk"), **extra).order_by()
                                 .values("domain").annotate(n=Count("pk")).values("n"),
                                 output_field=IntegerField()), 0)

    domains = domains_for(user).annotate(
        mailbox_count=count_of(Mailbox),
        alias_count=count_of(Alias, mailbox__isnull=True),
        quota_allocated=Coalesce(Subquery(Mailbox.objects.filter(domain=OuterRef("pk")).order_by()
                                          .values("domain").annotate(s=Sum("quota_bytes")).values("s")), 0),
    )
    if query.strip():
        domains = domains.filter(any_term_matches(query, "name"))
    return domains.order_by(DOMAIN_SORTS.get(sort, "name"), "pk")


MAILBOX_ROW_FIELDS = ("id", "address", "name", "active", "quota_bytes", "usage__bytes", "usage__fill_ratio",
                      "usage__updated_at")
# Last login (Dovecot's last_login plugin; docs/mailstack.md): a column, two sorts, a filter.
MAILBOX_ROW_FIELDS += ("last_login_at",)
# Both read the index mailbox_last_login (or mailbox_domain_last_login), forwards or backwards.
MAILBOX_SORTS.update({"login": F("last_login_at").asc(nulls_first=True),      # longest idle first
                      "-login": F("last_login_at").desc(nulls_last=True)})


def without_login_for(mailboxes: QuerySet[Mailbox], days: int) -> QuerySet[Mailbox]:
    """`mailboxes` that have not logged in over IMAP or POP3 for `days` days (of 24 h) or never
    did: the start of the index mailbox_last_login (NULLs first, then the oldest)."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    return mailboxes.filter(Q(last_login_at__isnull=True) | Q(last_login_at__lt=cutoff))


def mailbox_list(user: Admin, *, domain: Domain | None = None, query: str = "", active: bool | None = None,
                 sort: str = "address", idle_days: int | None = None) -> QuerySet[Mailbox]:
    # The columns a row shows, no more: no password hash, maildir or domain row to fetch and
    # build into model instances (a third of the list's time at 25 rows under load).
    mailboxes = mailboxes_for(user).select_related("usage").only(*MAILBOX_ROW_FIELDS)
    if idle_days is not None:
        mailboxes = without_login_for(mailboxes, idle_days)
    if domain is not None:
        mailboxes = mailboxes.filter(domain=domain)
    if query:
        # icontains becomes UPPER(col) LIKE UPPER('%q%'): served by the trigram indexes.
        mailboxes = mailboxes.filter(any_term_matches(query, "address") | Q(name__icontains=query.strip()))
    if active is not None:
        mailboxes = mailboxes.filter(active=active)
    order = MAILBOX_SORTS.get(sort, "address")
    # The tie-breaker follows the sort's direction, so a descending sort reads its index backwards.
    tie = "-pk" if sort == "-login" else "pk"
    return mailboxes.order_by(order, tie)


DASHBOARD_CACHE_SECONDS = 30


def dashboard_totals(user: Admin) -> dict:
    """Totals for the admin's scope, recomputed at most every 30 seconds per scope (five
    aggregates over 100,000 rows cost ~60 ms; usage figures lag Dovecot anyway)."""
    key = f"dashboard:{scope_cache_key(user)}"
    totals = cache.get(key)
    if totals is None:
        totals = _dashboard_totals(user)
        cache.set(key, totals, DASHBOARD_CACHE_SECONDS)
    return totals


def _dashboard_totals(user: Admin) -> dict:
    superadmin = getattr(user, "is_superadmin", False)
    domains = Domain.objects.all() if superadmin else domains_for(user)
    mailboxes = Mailbox.objects.all() if superadmin else Mailbox.objects.filter(domain_id__in=domain_ids_for(user))
    aliases = Alias.objects.all() if superadmin else Alias.objects.filter(domain_id__in=domain_ids_for(user))
    usage = QuotaUsage.objects.all() if superadmin else QuotaUsage.objects.filter(mailbox__domain_id__in=domain_ids_for(user))
    totals = domains.aggregate(domains=Count("pk"), active_domains=Count("pk", filter=Q(active=True)))
    totals |= mailboxes.aggregate(mailboxes=Count("pk"), inactive_mailboxes=Count("pk", filter=Q(active=False)),
                                  quota_allocated=Coalesce(Sum("quota_bytes"), 0))
    totals |= aliases.aggregate(aliases=Count("pk", filter=Q(mailbox__isnull=True)),
                                forwardings=Count("pk", filter=Q(mailbox__isnull=False)))
    totals |= usage.aggregate(used=Coalesce(Sum("bytes"), 0), messages=Coalesce(Sum("messages"), 0),
                              near_full=Count("pk", filter=Q(fill_ratio__gte=0.9)))
    return totals


def address_is_free(domain: Domain, local_part: str) -> bool:
    address = f"{local_part}@{domain.name}"
    return not Mailbox.objects.filter(address=address).exists() and not Alias.objects.filter(address=address).exists()


# --- the mailbox page and the domain page ------------------------------------------------

def aliases_reaching(mailbox: Mailbox) -> QuerySet[Alias]:
    """The plain aliases that deliver to `mailbox` (its address among their destinations;
    served by the GIN index on destinations). Its own forwarding is not one of them."""
    return Alias.objects.filter(destinations__contains=[mailbox.address], mailbox__isnull=True).order_by("address")


def external_forwarding_count(domain: Domain) -> int:
    """Mailbox forwardings of `domain` with at least one destination outside the server's
    own domains and alias domains: what `allow_external_forwarding` governs."""
    return len(external_forwardings(domain))


def external_forwardings(domain: Domain) -> list[Alias]:
    """The forwardings counted by external_forwarding_count, with their mailboxes."""
    forwardings = list(Alias.objects.filter(domain=domain, mailbox__isnull=False).select_related("mailbox"))
    targets = {d.rsplit("@", 1)[-1] for f in forwardings for d in f.destinations}
    local = set(Domain.objects.filter(name__in=targets).values_list("name", flat=True))
    local |= set(AliasDomain.objects.filter(name__in=targets).values_list("name", flat=True))
    return [f for f in forwardings if any(d.rsplit("@", 1)[-1] not in local for d in f.destinations)]


def unserved_addresses(mailbox_model=Mailbox, alias_model=Alias, local_part_re: str | None = None,
                       alias_address_re: str | None = None) -> list[tuple[str, str]]:
    """[("mailbox" | "alias", address)], sorted, for every mailbox and named alias whose address
    name is outside the set the whole stack serves (models.LOCAL_PART_SQL_RE, docs/mailstack.md):
    rows from before that rule, which migration domains 0009 must not meet. Forwardings carry
    their mailbox's address and are left to it. A migration passes its historical models and
    its own copy of the two regular expressions (PostgreSQL `~` syntax)."""
    from .models import ALIAS_ADDRESS_SQL_RE, LOCAL_PART_SQL_RE

    local_part_re, alias_address_re = local_part_re or LOCAL_PART_SQL_RE, alias_address_re or ALIAS_ADDRESS_SQL_RE
    mailboxes = mailbox_model.objects.exclude(local_part__regex=local_part_re).values_list("address", flat=True)
    aliases = (alias_model.objects.filter(mailbox__isnull=True).exclude(address__regex=alias_address_re)
               .values_list("address", flat=True))
    return sorted([("mailbox", a) for a in mailboxes] + [("alias", a) for a in aliases], key=lambda row: row[1])
