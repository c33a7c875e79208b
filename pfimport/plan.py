"""From a Postfixadmin database's rows to what we create, and what cannot come over and why.

Pure (no database): `build_plan(source)` takes the rows read by pfimport.source and returns
a Plan, whose items map one to one onto our services' arguments, and its problems (rows
that will not be imported) and notes (rows imported with an adjustment). Postfixadmin's
conventions, from its source (see docs/migrate-from-postfixadmin.md):
- domain `mailboxes`/`aliases`: counts, 0 = unlimited, -1 = none allowed;
- domain `maxquota`/`quota`: MB (mailbox quotas are bytes = MB x quota_multiplier, default 1024000);
- mailbox `quota`: bytes, 0 = unlimited;
- `alias.goto`: comma-separated destinations; every mailbox has an alias row to itself
  (our virtual_mailbox_self_maps does that job); `@domain` is the catch-all;
- `alias_domain` rows point at a `domain` row (an alias domain is also a row in `domain`);
- `domain = 'ALL'` in domain_admins marks a superadmin (before the `superadmin` column).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from accounts.hashers import login_can_verify
from domains.addresses import normalize_address, normalize_domain, normalize_local_part

from .hashes import dovecot_hash

DEFAULT_QUOTA_MULTIPLIER = 1024000  # Postfixadmin's $CONF['quota_multiplier']


# --- what the source holds (plain rows) --------------------------------------------------

@dataclass
class SourceDomain:
    domain: str
    description: str = ""
    aliases: int = 0
    mailboxes: int = 0
    maxquota: int = 0
    quota: int = 0
    transport: str | None = None
    backupmx: bool = False
    active: bool = True


@dataclass
class SourceMailbox:
    username: str
    password: str
    name: str
    maildir: str
    quota: int
    local_part: str
    domain: str
    active: bool = True


@dataclass
class SourceAlias:
    address: str
    goto: str
    domain: str
    active: bool = True


@dataclass
class SourceAliasDomain:
    alias_domain: str
    target_domain: str
    active: bool = True


@dataclass
class SourceAdmin:
    username: str
    superadmin: bool
    active: bool
    domains: list[str] = field(default_factory=list)
    password: str = ""  # as pacrypt() stored it: the same schemes as the mailboxes


@dataclass
class SourceQuota:
    username: str
    bytes: int
    messages: int


@dataclass
class Source:
    version: str
    domains: list[SourceDomain] = field(default_factory=list)
    mailboxes: list[SourceMailbox] = field(default_factory=list)
    aliases: list[SourceAlias] = field(default_factory=list)
    alias_domains: list[SourceAliasDomain] = field(default_factory=list)
    admins: list[SourceAdmin] = field(default_factory=list)
    quota2: list[SourceQuota] = field(default_factory=list)


# --- what we will create ---------------------------------------------------------------

@dataclass
class Problem:
    """A row that is not imported (or a note on one imported with an adjustment)."""

    kind: str   # domain, mailbox, alias, alias_domain, admin, quota
    key: str    # the row's name or address in the source
    code: str   # stable: invalid_domain, invalid_address, alias_loop, domain_and_alias_domain, ...
    message: str


@dataclass
class PlannedDomain:
    name: str
    fields: dict


@dataclass
class PlannedMailbox:
    domain: str
    local_part: str
    password_hash: str
    maildir: str
    name: str
    quota_bytes: int
    active: bool

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


@dataclass
class PlannedForwarding:
    address: str
    destinations: list[str]
    keep_copy: bool


@dataclass
class PlannedAlias:
    domain: str
    local_part: str  # "" for the catch-all
    destinations: list[str]
    active: bool

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


@dataclass
class PlannedAliasDomain:
    name: str
    target: str
    active: bool


@dataclass
class PlannedAdmin:
    username: str
    email: str
    superadmin: bool
    active: bool
    domains: list[str]
    password_hash: str | None = None  # Dovecot form, only when the panel's login can verify it


@dataclass
class Plan:
    domains: list[PlannedDomain] = field(default_factory=list)
    alias_domains: list[PlannedAliasDomain] = field(default_factory=list)
    mailboxes: list[PlannedMailbox] = field(default_factory=list)
    forwardings: list[PlannedForwarding] = field(default_factory=list)
    aliases: list[PlannedAlias] = field(default_factory=list)
    usage: dict[str, tuple[int, int]] = field(default_factory=dict)  # address -> (bytes, messages)
    admins: list[PlannedAdmin] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    def problem(self, kind: str, key: str, code: str, message: str) -> None:
        self.problems.append(Problem(kind, key, code, message))

    def note(self, kind: str, key: str, code: str, message: str) -> None:
        self.notes.append(Problem(kind, key, code, message))


def _message(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


def split_goto(goto: str) -> list[str]:
    """Postfixadmin's comma-separated goto as a list (blanks and spaces dropped)."""
    return [part.strip() for part in (goto or "").replace("\n", ",").split(",") if part.strip()]


def _count_limit(value: int, used: int, plan: Plan, domain: str, what: str) -> int:
    """Our limit (0 = unlimited) for a Postfixadmin count limit (0 = unlimited, -1 = none)."""
    value = int(value or 0)
    if value < 0:
        if used:
            plan.note("domain", domain, f"{what}_disabled", f"{what} = -1 (none allowed) but {used} exist: "
                      f"limited to {used}")
            return used
        plan.note("domain", domain, f"{what}_disabled", f"{what} = -1 (none allowed) cannot be expressed "
                  "(0 means unlimited here): imported as unlimited")
        return 0
    if value and used > value:
        plan.note("domain", domain, f"{what}_over_limit", f"{used} {what} exceed the limit {value}: raised to {used}")
        return used
    return value


def _mb(value: int, multiplier: int, plan: Plan, domain: str, what: str) -> int:
    value = int(value or 0)
    if value < 0:
        plan.note("domain", domain, f"{what}_disabled", f"{what} = {value} (disabled): imported as unlimited")
        return 0
    return value * multiplier


def build_plan(source: Source, *, quota_multiplier: int = DEFAULT_QUOTA_MULTIPLIER,
               only_domains: set[str] | None = None) -> Plan:
    """What importing `source` creates, in dependency order, with every problem found.

    `only_domains` (ASCII names) restricts the import to those domains, their alias domains
    and their admins' scopes; superadmins then come over only without it."""
    plan = Plan()

    # Domains: names normalized; 'ALL' is Postfixadmin's superadmin marker, not a domain.
    domains: dict[str, SourceDomain] = {}
    for row in source.domains:
        if row.domain.upper() == "ALL":
            continue
        try:
            name = normalize_domain(row.domain)
        except ValidationError as exc:
            plan.problem("domain", row.domain, "invalid_domain", _message(exc))
            continue
        if only_domains is None or name in only_domains:
            domains[name] = row

    def domain_of(value: str) -> str | None:
        try:
            return normalize_domain(value)
        except ValidationError:
            return None

    # Alias domains are rows of `domain` too: import such a name only as an alias domain,
    # unless it holds mailboxes or aliases of its own (then it cannot be both).
    holders: dict[str, int] = {}
    for row in source.mailboxes:
        holders[domain_of(row.domain) or ""] = holders.get(domain_of(row.domain) or "", 0) + 1
    for row in source.aliases:
        address_domain = domain_of(row.address.rpartition("@")[2]) or ""
        is_self = split_goto(row.goto) == [row.address]
        if not is_self:
            holders[address_domain] = holders.get(address_domain, 0) + 1
    alias_domain_names: set[str] = set()
    for row in source.alias_domains:
        name, target = domain_of(row.alias_domain), domain_of(row.target_domain)
        if only_domains is not None and target not in only_domains:
            continue
        if name is None or target is None:
            plan.problem("alias_domain", row.alias_domain, "invalid_domain", f"{row.alias_domain} → {row.target_domain}: not a valid domain name")
            continue
        if target not in domains:
            plan.problem("alias_domain", name, "target_not_imported", f"its target {target} is not imported")
            continue
        if holders.get(name):
            plan.problem("alias_domain", name, "domain_and_alias_domain",
                         f"{name} is an alias domain of {target} and also holds {holders[name]} mailboxes or "
                         "aliases of its own: imported as a domain only")
            continue
        alias_domain_names.add(name)
        domains.pop(name, None)
        plan.alias_domains.append(PlannedAliasDomain(name=name, target=target, active=bool(row.active)))

    # Mailboxes (and how many each domain will hold, for the limits).
    mailbox_addresses: set[str] = set()
    per_domain: dict[str, list[PlannedMailbox]] = {}
    for row in source.mailboxes:
        name = domain_of(row.domain)
        if name not in domains:
            if only_domains is None or name in only_domains or name in alias_domain_names:
                plan.problem("mailbox", row.username, "domain_not_imported", f"its domain {row.domain} is not imported")
            continue
        local = row.local_part or row.username.rpartition("@")[0]
        try:
            local = normalize_local_part(local)
        except ValidationError as exc:
            plan.problem("mailbox", row.username, "invalid_address", _message(exc))
            continue
        if domains[name].backupmx:
            plan.problem("mailbox", row.username, "backup_mx_mailbox", f"{name} is a backup MX domain: it holds no mailboxes")
            continue
        password_hash = dovecot_hash(row.password)
        if password_hash is None:
            password_hash = "{ARGON2ID}!unusable-imported"  # never verifies: the password must be reset
            plan.note("mailbox", row.username, "unknown_hash_scheme",
                      "password hash format not recognised: imported without a usable password (set a new one)")
        maildir = (row.maildir or f"{name}/{local}/").strip()
        if maildir.startswith("/") or ".." in maildir:
            plan.problem("mailbox", row.username, "maildir_not_relative",
                         f"maildir {maildir!r} is not a path below the mail root")
            continue
        quota = int(row.quota or 0)
        if quota < 0:
            plan.note("mailbox", row.username, "quota_disabled", f"quota {quota}: imported as unlimited")
            quota = 0
        mailbox = PlannedMailbox(domain=name, local_part=local, password_hash=password_hash, maildir=maildir,
                                 name=(row.name or "").strip()[:255], quota_bytes=quota, active=bool(row.active))
        mailbox_addresses.add(mailbox.address)
        per_domain.setdefault(name, []).append(mailbox)

    # Aliases: mailbox rows become forwardings (or nothing, for the plain self-alias).
    alias_rows: list[tuple[SourceAlias, str, str, list[str]]] = []
    source_usernames = {row.username.strip().lower() for row in source.mailboxes}
    for row in source.aliases:
        address_text = row.address.strip()
        catchall = address_text.startswith("@")
        name = domain_of(address_text.rpartition("@")[2])
        if name in alias_domain_names:
            if split_goto(row.goto) != [address_text]:
                plan.problem("alias", row.address, "alias_in_alias_domain",
                             f"{name} becomes an alias domain: its own aliases cannot be kept")
            continue
        if name not in domains:
            if only_domains is None or name in only_domains:
                plan.problem("alias", row.address, "domain_not_imported", f"its domain {row.address.rpartition('@')[2]} is not imported")
            continue
        try:
            address = "@" + name if catchall else normalize_address(address_text)
        except ValidationError as exc:
            plan.problem("alias", row.address, "invalid_address", _message(exc))
            continue
        destinations: list[str] = []
        invalid = False
        for target in split_goto(row.goto):
            if "@autoreply." in target or "#" in target.partition("@")[0]:
                plan.note("alias", row.address, "vacation_not_imported",
                          f"vacation auto-reply destination {target} dropped (vacation is not imported)")
                continue
            try:
                destinations.append(normalize_address(target))
            except ValidationError:
                plan.problem("alias", row.address, "invalid_destination", f"{target!r} is not an address")
                invalid = True
                break
        if invalid:
            continue
        if not destinations:
            if address not in mailbox_addresses:
                plan.problem("alias", row.address, "no_destination", "the alias has no destination")
            continue
        if address in source_usernames and address not in mailbox_addresses:
            continue  # the alias row of a mailbox that is not imported (reported with it)
        alias_rows.append((row, name, address, list(dict.fromkeys(destinations))))

    # Loops: an alias whose mail, followed through other aliases, reaches no mailbox or
    # outside address (a → a, or a → b → a) would be bounced by Postfix; it is not imported.
    graph = {address: dests for _row, _name, address, dests in alias_rows if address not in mailbox_addresses}

    def reaches_delivery(address: str, seen: set[str]) -> bool:
        for dest in graph.get(address, []):
            if dest in mailbox_addresses or dest not in graph:
                return True
            if dest not in seen and reaches_delivery(dest, seen | {dest}):
                return True
        return False

    plain_counts: dict[str, int] = {}
    for row, name, address, destinations in alias_rows:
        if address in mailbox_addresses:
            others = [d for d in destinations if d != address]
            if others:
                plan.forwardings.append(PlannedForwarding(address=address, destinations=others,
                                                          keep_copy=address in destinations))
            continue
        if domains[name].backupmx:
            plan.problem("alias", row.address, "backup_mx_alias", f"{name} is a backup MX domain: it holds no aliases")
            continue
        if not reaches_delivery(address, {address}):
            plan.problem("alias", row.address, "alias_loop",
                         f"{address} → {', '.join(destinations)}: the mail loops and reaches no mailbox")
            continue
        local = "" if address.startswith("@") else address.rpartition("@")[0]
        plan.aliases.append(PlannedAlias(domain=name, local_part=local, destinations=destinations,
                                         active=bool(row.active)))
        plain_counts[name] = plain_counts.get(name, 0) + 1

    # Domain limits, converted and made to hold what the domain already has.
    for name, row in domains.items():
        mailboxes = per_domain.get(name, [])
        max_quota = _mb(row.maxquota, quota_multiplier, plan, name, "maxquota")
        total = _mb(row.quota, quota_multiplier, plan, name, "quota")
        if total and max_quota > total:
            plan.note("domain", name, "maxquota_over_quota", "maxquota above the domain quota: lowered to it")
            max_quota = total
        cap = max_quota or total
        for mailbox in mailboxes:
            if cap and (mailbox.quota_bytes == 0 or mailbox.quota_bytes > cap):
                plan.note("mailbox", mailbox.address, "quota_over_domain_limit",
                          f"quota {mailbox.quota_bytes or 'unlimited'} is over the domain's limit: set to {cap} bytes")
                mailbox.quota_bytes = cap
        allocated = sum(m.quota_bytes for m in mailboxes)
        if total and allocated > total:
            plan.note("domain", name, "quota_over_allocated", f"mailboxes have {allocated} bytes allocated, over the "
                      f"domain quota {total}: raised to {allocated}")
            total = allocated
        transport = (row.transport or "").strip()
        if transport == "virtual":
            transport = ""  # Postfixadmin's default: delivery to the mailboxes, our default too
        plan.domains.append(PlannedDomain(name=name, fields={
            "description": (row.description or "").strip()[:255],
            "active": bool(row.active), "backup_mx": bool(row.backupmx), "transport": transport,
            "max_mailboxes": _count_limit(row.mailboxes, len(mailboxes), plan, name, "mailboxes"),
            "max_aliases": _count_limit(row.aliases, plain_counts.get(name, 0), plan, name, "aliases"),
            "max_quota_bytes": max_quota, "quota_bytes": total, "default_quota_bytes": cap,
        }))
        plan.mailboxes.extend(mailboxes)

    for row in source.quota2:
        address = row.username.strip().lower()
        if address in mailbox_addresses:
            plan.usage[address] = (int(row.bytes or 0), int(row.messages or 0))

    # Admins: superadmin flag or the legacy ALL domain; scopes limited to imported domains.
    for row in source.admins:
        superadmin = bool(row.superadmin) or any(d.upper() == "ALL" for d in row.domains)
        scope = sorted({d for d in (domain_of(x) for x in row.domains if x.upper() != "ALL") if d in domains})
        if superadmin and only_domains is not None:
            plan.problem("admin", row.username, "superadmin_not_in_scope", "superadmins are imported only without --domains")
            continue
        if not superadmin and not scope:
            if only_domains is None:
                plan.problem("admin", row.username, "admin_without_domains", "administers no imported domain")
            continue
        username = row.username.strip()
        email = username if "@" in username else ""
        password_hash = dovecot_hash(row.password)
        if password_hash is None or not login_can_verify(password_hash):
            # Imported disabled: an active admin nobody can log in as would only invite a reset
            # by whoever reaches the account first.
            plan.note("admin", username, "admin_password_reset_needed",
                      "its password hash is in a scheme the panel's login cannot verify: imported disabled; "
                      "set a password (manage.py changepassword) and activate it")
            password_hash = None
        plan.admins.append(PlannedAdmin(username=username, email=email, superadmin=superadmin,
                                        active=bool(row.active) and password_hash is not None,
                                        domains=[] if superadmin else scope, password_hash=password_hash))
    return plan
