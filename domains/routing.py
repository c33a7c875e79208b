"""How Postfix resolves an address through the panel's maps, as a pure function of the rows.

No Django and no database here: the rows go in (`Rows`), a `Resolution` comes out. The
services run it inside every routing write (`domains/routing_db.py` loads only the rows an
address reaches), `manage.py route` and the route page explain it, and
tests/mailstack/test_routing_property.py checks it against the real Postfix.

What it reproduces (Postfix 3.7-3.10; the tables are those of domains/mailstack.py):

* Address classes (ADDRESS_CLASS_README): `virtual_mailbox_domains` (live domains),
  `virtual_alias_domains` (active alias domains of live domains), `relay_domains` (active
  backup-MX domains); anything else is remote.
* `virtual_alias_maps` lookups (virtual(5), mail_addr_find): the full address in every table,
  in order; then, with `recipient_delimiter` set, the address without its extension in every
  table; then `@domain` in every table. A match through the address without extension gets
  the extension back on each result (`propagate_unmatched_extensions`, default
  `canonical, virtual`).
* Recursive expansion (cleanup's one-to-many mapping): each result is looked up again; an
  address that expands into itself stops there (once); more than
  `virtual_alias_recursion_limit` (default 1000) nested lookups for one address, or more than
  `virtual_alias_expansion_limit` (default 1000) addresses in the expansion, and Postfix defers
  the whole message with "451 4.6.0 Alias expansion error" (postconf(5)).
* RCPT-time checks in smtpd: `check_recipient_access` on the recipient-access map (disabled
  addresses), then `smtpd_reject_unlisted_recipient` (a virtual mailbox domain address must be
  listed in virtual_alias_maps or virtual_mailbox_maps; an alias-domain address in
  virtual_alias_maps), and relaying denied for remote domains.
* Final recipients: an address still in an alias domain bounces (user unknown in virtual alias
  table); one in a virtual mailbox domain goes to Dovecot over LMTP, which refuses unknown or
  inactive users and, with `lmtp_rcpt_check_quota`, full mailboxes.
* `smtpd_sender_login_maps` (reject_sender_login_mismatch): the logins that own a sender
  address, looked up like a recipient (full, without extension, `@domain`): the mailbox
  itself, the mailboxes an alias names, and explicit send-as grants (mailaccess.SenderGrant).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

# postconf(5): virtual_alias_recursion_limit and virtual_alias_expansion_limit, both 1000.
VIRTUAL_ALIAS_RECURSION_LIMIT = 1000
VIRTUAL_ALIAS_EXPANSION_LIMIT = 1000
# RFC 3463 X.2.1 "Mailbox disabled, not accepting messages": the recipient-access answer.
DISABLED_REPLY = "550 5.2.1 Mailbox disabled, not accepting messages"
# A local part no stored address has: checks a catch-all as "any address not otherwise listed".
CATCHALL_PROBE = "(any other address)"


@dataclass(frozen=True)
class DomainRow:
    name: str
    active: bool = True
    backup_mx: bool = False


@dataclass(frozen=True)
class AliasDomainRow:
    name: str
    target: str          # the target domain's name
    active: bool = True


@dataclass(frozen=True)
class MailboxRow:
    address: str
    active: bool = True
    quota_bytes: int = 0   # 0 = unlimited
    used_bytes: int = 0


@dataclass(frozen=True)
class AliasRow:
    address: str                        # name@domain, or @domain for a catch-all
    destinations: tuple[str, ...]
    active: bool = True
    forwarding: bool = False            # the forwarding of the mailbox of the same address


@dataclass
class Rows:
    """The rows the model may read. `known_*` say which names were looked for, found or not:
    the database loader fetches what a resolution asks for and runs it again (see `missing`)."""
    domains: dict[str, DomainRow] = field(default_factory=dict)
    alias_domains: dict[str, AliasDomainRow] = field(default_factory=dict)
    mailboxes: dict[str, MailboxRow] = field(default_factory=dict)
    aliases: dict[str, AliasRow] = field(default_factory=dict)
    complete: bool = False              # True: every row is here (tests, property test)
    known_domains: set[str] = field(default_factory=set)
    known_addresses: set[str] = field(default_factory=set)
    missing_domains: set[str] = field(default_factory=set)
    missing_addresses: set[str] = field(default_factory=set)
    # Send-as grants: address -> the mailboxes granted it (sender_grant rows).
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, domains: Iterable[DomainRow] = (), alias_domains: Iterable[AliasDomainRow] = (),
           mailboxes: Iterable[MailboxRow] = (), aliases: Iterable[AliasRow] = ()) -> "Rows":
        return cls({d.name: d for d in domains}, {a.name: a for a in alias_domains},
                   {m.address: m for m in mailboxes}, {a.address: a for a in aliases}, complete=True)

    # Each accessor notes a name it has never been told about, so the loader can fetch it.
    def domain(self, name: str) -> DomainRow | None:
        if not self.complete and name not in self.known_domains:
            self.missing_domains.add(name)
        return self.domains.get(name)

    def alias_domain(self, name: str) -> AliasDomainRow | None:
        if not self.complete and name not in self.known_domains:
            self.missing_domains.add(name)
        return self.alias_domains.get(name)

    def mailbox(self, address: str) -> MailboxRow | None:
        if not self.complete and address not in self.known_addresses:
            self.missing_addresses.add(address)
        return self.mailboxes.get(address)

    def alias(self, address: str) -> AliasRow | None:
        if not self.complete and address not in self.known_addresses:
            self.missing_addresses.add(address)
        return self.aliases.get(address)

    def grantees(self, address: str) -> tuple[str, ...]:
        """The mailboxes explicitly granted to send as `address` (loaded with the address)."""
        if not self.complete and address not in self.known_addresses:
            self.missing_addresses.add(address)
        return self.grants.get(address, ())

    @property
    def missing(self) -> bool:
        return bool(self.missing_domains or self.missing_addresses)


@dataclass(frozen=True)
class Settings:
    """The Postfix main.cf settings the resolution depends on."""
    recipient_delimiter: str = ""       # main.cf recipient_delimiter (a set of characters)
    recursion_limit: int = VIRTUAL_ALIAS_RECURSION_LIMIT
    expansion_limit: int = VIRTUAL_ALIAS_EXPANSION_LIMIT


@dataclass(frozen=True)
class Step:
    """One thing Postfix did. `code` names it (the explainer translates it); `params` fill it."""
    code: str
    params: dict


@dataclass
class Outcome:
    """What became of one final recipient."""
    address: str
    result: str          # delivered | external | relayed | unknown | inactive | over_quota | alias_domain_unresolved
    mailbox: str = ""    # the mailbox Dovecot delivers to, for `delivered` and `over_quota`


@dataclass
class Resolution:
    address: str
    rcpt: str            # accepted | disabled | unknown | relay_denied (smtpd's answer at RCPT)
    rcpt_reply: str = ""
    steps: list[Step] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""      # recursion_limit | expansion_limit: the whole message is deferred (4.6.0)
    cycle: list[str] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)   # logins that may send as `address`
    # Why each may: {"login", "reason" (mailbox | alias | grant), "via" (the address that matched)}.
    sender_reasons: list[dict] = field(default_factory=list)

    @property
    def mailboxes(self) -> list[str]:
        return [o.mailbox for o in self.outcomes if o.result == "delivered"]

    @property
    def external(self) -> list[str]:
        return [o.address for o in self.outcomes if o.result in ("external", "relayed")]

    def as_dict(self) -> dict:
        return {
            "address": self.address, "rcpt": self.rcpt, "rcpt_reply": self.rcpt_reply,
            "error": self.error, "cycle": self.cycle,
            "steps": [{"code": s.code, **s.params} for s in self.steps],
            "recipients": [{"address": o.address, "result": o.result, "mailbox": o.mailbox}
                           for o in self.outcomes],
            "senders": self.senders,
            "sender_reasons": self.sender_reasons,
        }


def split(address: str) -> tuple[str, str]:
    local, at, domain = address.rpartition("@")
    return (local, domain) if at else (address, "")


def strip_extension(address: str, delimiter: str) -> tuple[str, str] | None:
    """(address without extension, extension with its delimiter), or None (Postfix split_addr():
    the first character of the delimiter set splits; postmaster and MAILER-DAEMON never split;
    with '-', owner-x and x-request do not either)."""
    if not delimiter:
        return None
    local, domain = split(address)
    if local in ("postmaster", "mailer-daemon"):
        return None
    if "-" in delimiter and (local.startswith("owner-") or local.endswith("-request")):
        return None
    cut = min((i for i, c in enumerate(local) if c in delimiter), default=-1)
    if cut <= 0:
        return None
    return f"{local[:cut]}@{domain}", local[cut:]


class Model:
    """The tables of domains/mailstack.py over `rows`, and what Postfix does with them."""

    def __init__(self, rows: Rows, settings: Settings = Settings()):
        self.rows = rows
        self.settings = settings

    # --- domain classes ---------------------------------------------------------------
    def live(self, name: str) -> bool:
        """virtual_mailbox_domains: an active domain that is not a backup MX."""
        d = self.rows.domain(name)
        return bool(d and d.active and not d.backup_mx)

    def alias_domain_target(self, name: str) -> str | None:
        """virtual_alias_domains: the target of an active alias domain of a live domain."""
        ad = self.rows.alias_domain(name)
        return ad.target if ad and ad.active and self.live(ad.target) else None

    def relay(self, name: str) -> bool:
        d = self.rows.domain(name)
        return bool(d and d.active and d.backup_mx)

    def address_class(self, domain: str) -> str:
        if self.live(domain):
            return "virtual"
        if self.alias_domain_target(domain):
            return "alias_domain"
        if self.relay(domain):
            return "relay"
        return "remote"

    # --- the tables, one function per map of domains/mailstack.py -----------------------
    def _disabled_here(self, address: str) -> bool:
        local, domain = split(address)
        if not local or not self.live(domain):
            return False
        mailbox = self.rows.mailbox(address)
        if mailbox is not None:
            return not mailbox.active
        alias = self.rows.alias(address)
        return bool(alias and not alias.active and not alias.forwarding)

    def disabled(self, key: str) -> bool:
        """recipient_access / disabled_recipient_maps: an inactive mailbox or alias (also as
        name@alias-domain)."""
        local, domain = split(key)
        if not local or not domain:
            return False
        if self._disabled_here(key):
            return True
        target = self.alias_domain_target(domain)
        return bool(target and self._disabled_here(f"{local}@{target}"))

    def t_disabled(self, key: str) -> list[str] | None:
        return [key] if self.disabled(key) else None

    def t_alias(self, key: str) -> list[str] | None:
        alias = self.rows.alias(key)
        if alias and alias.active and self.live(split(key)[1]):
            return list(alias.destinations)
        return None

    def t_self(self, key: str) -> list[str] | None:
        mailbox = self.rows.mailbox(key)
        return [key] if mailbox and mailbox.active and self.live(split(key)[1]) else None

    def _via_alias_domain(self, key: str) -> str | None:
        local, domain = split(key)
        if not local or not domain:
            return None   # Postfix skips a query using %u/%d for a key without them
        target = self.alias_domain_target(domain)
        return f"{local}@{target}" if target else None

    def t_alias_domain_alias(self, key: str) -> list[str] | None:
        rewritten = self._via_alias_domain(key)
        alias = self.rows.alias(rewritten) if rewritten else None
        return list(alias.destinations) if alias and alias.active else None

    def t_alias_domain_mailbox(self, key: str) -> list[str] | None:
        rewritten = self._via_alias_domain(key)
        mailbox = self.rows.mailbox(rewritten) if rewritten else None
        return [rewritten] if mailbox and mailbox.active else None

    def t_alias_domain_catchall(self, key: str) -> list[str] | None:
        if not key.startswith("@"):
            return None
        target = self.alias_domain_target(key[1:])
        alias = self.rows.alias("@" + target) if target else None
        return list(alias.destinations) if alias and alias.active else None

    def virtual_alias_tables(self) -> list[tuple[str, Callable[[str], list[str] | None]]]:
        """main.cf virtual_alias_maps, in the order of domains/mailstack.py."""
        return [("disabled_recipient_maps", self.t_disabled), ("virtual_alias_maps", self.t_alias),
                ("virtual_mailbox_self_maps", self.t_self),
                ("alias_domain_alias_maps", self.t_alias_domain_alias),
                ("alias_domain_mailbox_maps", self.t_alias_domain_mailbox),
                ("alias_domain_catchall_maps", self.t_alias_domain_catchall)]

    def t_mailbox(self, key: str) -> list[str] | None:
        """virtual_mailbox_maps (the answer is the maildir; here, the address)."""
        return self.t_self(key)

    def sender_owners(self, key: str) -> list[tuple[str, str, str]]:
        """sender_login_maps with reasons: (login, reason, matched address) for the active
        mailbox itself ("mailbox"), the active mailboxes an active, non-forwarding alias names
        ("alias") and the active mailboxes granted the address ("grant"), for the address or
        its alias-domain form. Catch-alls and forwardings grant nothing (the query uses %u, so
        Postfix skips it for @domain)."""
        local, domain = split(key)
        if not local or not domain:
            return []
        owners: list[tuple[str, str, str]] = []
        for address in filter(None, [key, self._via_alias_domain(key)]):
            if self.t_self(address):
                owners.append((address, "mailbox", address))
            alias = self.rows.alias(address)
            if alias and alias.active and not alias.forwarding and self.live(split(address)[1]):
                owners += [(d, "alias", address) for d in alias.destinations if self.t_self(d)]
            owners += [(m, "grant", address) for m in self.rows.grantees(address) if self.t_self(m)]
        return owners

    def t_sender_login(self, key: str) -> list[str] | None:
        return sorted({login for login, _reason, _via in self.sender_owners(key)}) or None

    def table(self, name: str) -> Callable[[str], list[str] | None]:
        """One map by its domains/mailstack.py name, for comparison with `postmap -q`."""
        tables = dict(self.virtual_alias_tables())
        tables.update({
            "virtual_mailbox_maps": self.t_mailbox, "sender_login_maps": self.t_sender_login,
            "recipient_access": lambda key: [DISABLED_REPLY] if self.disabled(key) else None,
            "virtual_mailbox_domains": lambda key: [key] if self.live(key) else None,
            "virtual_alias_domains": lambda key: [key] if self.alias_domain_target(key) else None,
            "relay_domains": lambda key: [key] if self.relay(key) else None,
        })
        return tables[name]

    # --- lookups the way Postfix makes them -------------------------------------------
    def find(self, address: str, tables, *, domain_key: bool = True) -> tuple[str, str, list[str], str] | None:
        """mail_addr_find(): (table, key, results, extension to propagate) or None."""
        keys = [(address, "")]
        stripped = strip_extension(address, self.settings.recipient_delimiter)
        if stripped:
            keys.append(stripped)
        local, domain = split(address)
        if domain_key and domain:
            keys.append(("@" + domain, ""))
        for key, extension in keys:
            for name, lookup in tables:
                found = lookup(key)
                if found is not None:
                    return name, key, found, extension
        return None

    def map_once(self, address: str) -> tuple[str, str, list[str]] | None:
        """One virtual_alias_maps lookup with the extension propagated (mail_addr_map())."""
        found = self.find(address, self.virtual_alias_tables())
        if found is None:
            return None
        name, key, results, extension = found
        if extension:
            results = [f"{split(r)[0]}{extension}@{split(r)[1]}" for r in results]
        return name, key, results

    def expand(self, address: str, steps: list[Step]) -> tuple[list[str], str, list[str]]:
        """cleanup's virtual alias expansion: (final recipients, error, cycle)."""
        argv = [address]
        been_here: set[str] = set()
        index = 0
        while index < len(argv):
            if len(argv) > self.settings.expansion_limit:
                steps.append(Step("expansion_limit", {"address": address, "count": len(argv),
                                                      "limit": self.settings.expansion_limit}))
                return argv, "expansion_limit", []
            chain = [argv[index]]
            count = 0
            while True:
                current = argv[index]
                if current in been_here:
                    break
                if count >= self.settings.recursion_limit:
                    cycle = _cycle(chain)
                    steps.append(Step("recursion_limit", {"address": current, "cycle": cycle,
                                                          "limit": self.settings.recursion_limit}))
                    return argv, "recursion_limit", cycle
                mapped = self.map_once(current)
                if mapped is None:
                    break
                table, key, results = mapped
                if count < 50:   # a loop repeats itself; the first turns are enough to explain it
                    steps.append(Step("lookup", {"address": current, "table": table, "key": key,
                                                 "results": results}))
                for i, result in enumerate(results):
                    if i == 0:
                        argv[index] = result
                    else:
                        argv.append(result)
                    if result == current:
                        been_here.add(current)
                chain.append(argv[index])
                count += 1
            index += 1
        unique = list(dict.fromkeys(argv))
        return unique, "", []

    def outcome(self, address: str) -> Outcome:
        """Where a final recipient goes (trivial-rewrite's class, then the delivery agent)."""
        local, domain = split(address)
        klass = self.address_class(domain)
        if klass == "alias_domain":
            # Still in an alias domain after expansion: trivial-rewrite bounces it ("User unknown
            # in virtual alias table"). Unknown if no table knew it; if one did, it mapped to
            # itself (a forwarding to its own name@alias-domain): every mail bounces.
            return Outcome(address, "alias_domain_unresolved" if self.map_once(address) else "unknown")
        if klass == "relay":
            return Outcome(address, "relayed")
        if klass == "remote":
            return Outcome(address, "external")
        # Dovecot's LMTP looks the user up without the extension (its recipient_delimiter).
        stripped = strip_extension(address, self.settings.recipient_delimiter)
        user = stripped[0] if stripped else address
        mailbox = self.rows.mailbox(user)
        if mailbox is None:
            return Outcome(address, "unknown")
        if not mailbox.active:
            return Outcome(address, "inactive")
        if mailbox.quota_bytes and mailbox.used_bytes >= mailbox.quota_bytes:
            return Outcome(address, "over_quota", user)
        return Outcome(address, "delivered", user)

    def rcpt(self, address: str) -> tuple[str, str]:
        """smtpd's answer at RCPT TO from an outside client: (verdict, reply)."""
        local, domain = split(address)
        klass = self.address_class(domain)
        if klass == "remote":
            return "relay_denied", "554 5.7.1 Relay access denied"
        if klass == "relay":
            return "accepted", ""
        # check_recipient_access (access(5) tries the address, then without extension).
        keys = [address] + [s[0] for s in [strip_extension(address, self.settings.recipient_delimiter)] if s]
        if any(self.disabled(k) for k in keys):
            return "disabled", DISABLED_REPLY
        tables = self.virtual_alias_tables()
        if klass == "virtual":
            tables = tables + [("virtual_mailbox_maps", self.t_mailbox)]
        if self.find(address, tables) is None:
            table = "virtual mailbox" if klass == "virtual" else "virtual alias"
            return "unknown", f"550 5.1.1 User unknown in {table} table"
        return "accepted", ""

    def senders(self, address: str) -> list[str]:
        found = self.find(address, [("sender_login_maps", self.t_sender_login)])
        return sorted(found[2]) if found else []

    def resolve(self, address: str) -> Resolution:
        address = address.strip().lower()
        verdict, reply = self.rcpt(address)
        resolution = Resolution(address, verdict, reply)
        local, domain = split(address)
        resolution.steps.append(Step("domain_class", {"domain": domain, "class": self.address_class(domain)}))
        if verdict != "accepted":
            resolution.steps.append(Step("rcpt_refused", {"address": address, "reply": reply}))
        else:
            final, error, cycle = self.expand(address, resolution.steps)
            resolution.error, resolution.cycle = error, cycle
            if not error:
                resolution.outcomes = [self.outcome(a) for a in final]
        resolution.senders = self.senders(address)
        found = self.find(address, [("sender_login_maps", self.t_sender_login)])
        if found:
            resolution.sender_reasons = [{"login": login, "reason": reason, "via": via}
                                         for login, reason, via in dict.fromkeys(self.sender_owners(found[1]))]
        return resolution


def _cycle(chain: list[str]) -> list[str]:
    """The repeating part of a lookup chain: a -> b -> a -> b ... gives [a, b, a]."""
    seen: dict[str, int] = {}
    for i, address in enumerate(chain):
        if address in seen:
            return chain[seen[address]:i + 1]
        seen[address] = i
    return chain[:10]


@dataclass(frozen=True)
class Problem:
    """A state Postfix would fail on: `code` is loop | expansion_limit | alias_domain_unresolved."""
    code: str
    address: str
    detail: tuple[str, ...] = ()


def problems(model: Model, addresses: Iterable[str]) -> list[Problem]:
    """What is wrong with the routing of `addresses` (for the write-time checks)."""
    found: list[Problem] = []
    for address in dict.fromkeys(addresses):
        steps: list[Step] = []
        final, error, cycle = model.expand(address, steps)
        if error == "recursion_limit":
            found.append(Problem("loop", address, tuple(cycle)))
        elif error == "expansion_limit":
            found.append(Problem("expansion_limit", address, (str(len(final)),)))
        else:
            unresolved = [a for a in final if model.outcome(a).result == "alias_domain_unresolved"]
            if unresolved:
                found.append(Problem("alias_domain_unresolved", address, tuple(unresolved)))
    return found
