"""The SQL contract with Postfix and Dovecot, and the configuration files that carry it.

Every query the mail servers run lives here, once: `manage.py mailconfig` writes them into
Postfix map files and Dovecot's SQL configuration, docs/mailstack.md documents them, and the
tests run them through the real servers and EXPLAIN them at 100,000 mailboxes.

Postfix expands `%s` (the whole key), `%u` (local part) and `%d` (domain), quoting them for
SQL itself; a query using `%u` or `%d` is skipped when the key has no local part or domain.
Dovecot 2.3 expands `%u` (the user name, lower-cased by `auth_username_format = %Lu`); Dovecot 2.4
(Debian 13) writes it `%{user}`, lower-cased by its default auth_username_format. `mailconfig
--dovecot-version` picks the syntax; the Postfix files are the same for both.

Only active rows of active domains count anywhere, and backup-MX domains are never local.
"""
from __future__ import annotations

import grp
import ipaddress
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

# An address belongs to a live local domain.
_LIVE_DOMAIN = "d.active AND NOT d.backup_mx"


def _disabled(answer: str) -> str:
    """A query answering `answer` when the key is an inactive mailbox, or an inactive alias that
    is no forwarding, of a live domain, also as name@alias-domain. Inactive addresses must stop
    there: left out of every map, Postfix would try @domain next and give them to the catch-all."""
    def inactive(address: str) -> str:
        return (f"(EXISTS (SELECT 1 FROM mailbox m WHERE m.address = {address} AND NOT m.active) "
                f"OR (NOT EXISTS (SELECT 1 FROM mailbox m WHERE m.address = {address}) "
                f"AND EXISTS (SELECT 1 FROM alias a WHERE a.address = {address} AND NOT a.active "
                f"AND a.mailbox_id IS NULL)))")
    return (f"SELECT {answer} FROM domain d WHERE d.name = '%d' AND {_LIVE_DOMAIN} AND {inactive(QUOTED_KEY)} "
            f"UNION ALL SELECT {answer} FROM alias_domain ad JOIN domain d ON d.id = ad.target_id "
            f"WHERE ad.name = '%d' AND ad.active AND {_LIVE_DOMAIN} AND {inactive(ON_TARGET)}")


QUOTED_KEY = "'%s'"
ON_TARGET = "'%u' || '@' || d.name"   # name@alias-domain as name@target


# RFC 3463 X.2.1: "Mailbox disabled, not accepting messages".
DISABLED_REPLY = "550 5.2.1 Mailbox disabled, not accepting messages"


@dataclass(frozen=True)
class PostfixMap:
    name: str          # file name without .cf
    setting: str       # the main.cf parameter it serves
    query: str
    purpose: str
    example_key: str   # a realistic key, for EXPLAIN and docs


POSTFIX_MAPS: list[PostfixMap] = [
    PostfixMap(
        "virtual_mailbox_domains", "virtual_mailbox_domains",
        "SELECT d.name FROM domain d WHERE d.name = '%s' AND " + _LIVE_DOMAIN,
        "Domains whose mail is delivered here.", "example.org",
    ),
    PostfixMap(
        "virtual_alias_domains", "virtual_alias_domains",
        "SELECT ad.name FROM alias_domain ad JOIN domain d ON d.id = ad.target_id "
        "WHERE ad.name = '%s' AND ad.active AND " + _LIVE_DOMAIN,
        "Alias domains: every address is rewritten to the target domain by the alias-domain maps.",
        "example.net",
    ),
    PostfixMap(
        "relay_domains", "relay_domains",
        "SELECT d.name FROM domain d WHERE d.name = '%s' AND d.active AND d.backup_mx",
        "Backup-MX domains: accepted and relayed to their primary MX, never delivered here.",
        "relay.example",
    ),
    PostfixMap(
        "virtual_mailbox_maps", "virtual_mailbox_maps",
        "SELECT m.maildir FROM mailbox m JOIN domain d ON d.id = m.domain_id "
        "WHERE m.address = '%s' AND m.active AND " + _LIVE_DOMAIN,
        "Existing mailboxes (recipient validation); the result is the maildir, informative only "
        "since delivery goes to Dovecot over LMTP.", "john@example.org",
    ),
    # virtual_alias_maps: Postfix tries the full address in every table, in this order, before
    # it tries @domain; so a mailbox (mapped to itself) always wins over the catch-all.
    PostfixMap(
        "disabled_recipient_maps", "virtual_alias_maps",
        _disabled("'%s'"),
        "An inactive mailbox or alias maps to itself, first, so that neither its forwarding nor "
        "the catch-all applies; mail reaching it through an alias then bounces at Dovecot.",
        "john@example.org",
    ),
    PostfixMap(
        "virtual_alias_maps", "virtual_alias_maps",
        "SELECT array_to_string(a.destinations, ',') FROM alias a JOIN domain d ON d.id = a.domain_id "
        "WHERE a.address = '%s' AND a.active AND " + _LIVE_DOMAIN,
        "Aliases, forwardings and, for the key @domain, the catch-all.", "info@example.org",
    ),
    PostfixMap(
        "virtual_mailbox_self_maps", "virtual_alias_maps",
        "SELECT m.address FROM mailbox m JOIN domain d ON d.id = m.domain_id "
        "WHERE m.address = '%s' AND m.active AND " + _LIVE_DOMAIN,
        "Each mailbox maps to itself, so that a catch-all never swallows mail for it.",
        "john@example.org",
    ),
    PostfixMap(
        "alias_domain_alias_maps", "virtual_alias_maps",
        "SELECT array_to_string(a.destinations, ',') FROM alias_domain ad "
        "JOIN domain d ON d.id = ad.target_id "
        "JOIN alias a ON a.address = '%u' || '@' || d.name "
        "WHERE ad.name = '%d' AND ad.active AND a.active AND " + _LIVE_DOMAIN,
        "name@alias-domain goes where the alias (or forwarding) name@target goes.", "info@example.net",
    ),
    PostfixMap(
        "alias_domain_mailbox_maps", "virtual_alias_maps",
        "SELECT m.address FROM alias_domain ad JOIN domain d ON d.id = ad.target_id "
        "JOIN mailbox m ON m.address = '%u' || '@' || d.name "
        "WHERE ad.name = '%d' AND ad.active AND m.active AND " + _LIVE_DOMAIN,
        "name@alias-domain is rewritten to the mailbox name@target.", "john@example.net",
    ),
    PostfixMap(
        "alias_domain_catchall_maps", "virtual_alias_maps",
        "SELECT array_to_string(a.destinations, ',') FROM alias_domain ad "
        "JOIN domain d ON d.id = ad.target_id "
        "JOIN alias a ON a.address = '@' || d.name "
        "WHERE ad.name = substr('%s', 2) AND left('%s', 1) = '@' AND ad.active AND a.active AND "
        + _LIVE_DOMAIN,
        "The key @alias-domain goes to the target domain's catch-all.", "@example.net",
    ),
    PostfixMap(
        "transport_maps", "transport_maps",
        "SELECT d.transport FROM domain d WHERE d.name = '%s' AND d.active AND d.transport <> ''",
        "A per-domain transport (e.g. relay:[mx1.example.org] for a backup MX).", "relay.example",
    ),
    PostfixMap(
        "recipient_access", "smtpd_recipient_restrictions",
        _disabled("'" + DISABLED_REPLY + "'"),
        "check_recipient_access: an inactive mailbox or alias is refused at RCPT time.",
        "john@example.org",
    ),
    PostfixMap(
        "sender_login_maps", "smtpd_sender_login_maps",
        "WITH k (address) AS (SELECT '%s'::text UNION SELECT '%u' || '@' || d.name FROM alias_domain ad "
        "JOIN domain d ON d.id = ad.target_id WHERE ad.name = '%d' AND ad.active AND " + _LIVE_DOMAIN + ") "
        "SELECT m.address FROM k JOIN mailbox m ON m.address = k.address JOIN domain d ON d.id = m.domain_id "
        "WHERE m.active AND " + _LIVE_DOMAIN + " "
        "UNION SELECT m.address FROM k JOIN alias a ON a.address = k.address "
        "JOIN domain ad ON ad.id = a.domain_id JOIN mailbox m ON m.address = ANY (a.destinations) "
        "JOIN domain d ON d.id = m.domain_id WHERE a.active AND a.mailbox_id IS NULL "
        "AND ad.active AND NOT ad.backup_mx AND m.active AND " + _LIVE_DOMAIN + " "
        # Send-as grants (mailaccess.SenderGrant): explicit, for any address an admin's scope allows.
        "UNION SELECT m.address FROM k JOIN sender_grant g ON g.address = k.address "
        "JOIN mailbox m ON m.id = g.mailbox_id JOIN domain d ON d.id = m.domain_id "
        "WHERE m.active AND " + _LIVE_DOMAIN,
        "Which logins may use this envelope sender: the mailbox itself, the mailboxes an "
        "alias names, and the mailboxes granted it explicitly (send-as grants), also as "
        "name@alias-domain. A forwarding or a catch-all grants nothing (the query uses %u, so "
        "Postfix skips it for the key @domain).", "info@example.org",
    ),
]

# Dovecot. The password and user queries serve passdb/userdb; `%u` is the lower-cased login.
DOVECOT_PASSWORD_QUERY = (
    "SELECT m.address AS user, m.password FROM mailbox m JOIN domain d ON d.id = m.domain_id "
    "WHERE m.address = '%u' AND m.active AND " + _LIVE_DOMAIN
)
DOVECOT_USER_QUERY_TEMPLATE = (
    "SELECT '{mail_root}/' || m.maildir AS home, {uid} AS uid, {gid} AS gid, "
    "'*:bytes=' || m.quota_bytes AS quota_rule "
    "FROM mailbox m JOIN domain d ON d.id = m.domain_id "
    "WHERE m.address = '%u' AND m.active AND " + _LIVE_DOMAIN
)
DOVECOT_ITERATE_QUERY = (
    "SELECT m.address AS user FROM mailbox m JOIN domain d ON d.id = m.domain_id "
    "WHERE m.active AND " + _LIVE_DOMAIN
)

# Dovecot 2.4 runs the same queries with its new variable syntax: `%{user}` (still inside quotes:
# 2.4.1 substitutes SQL-escaped text, not bind parameters), and the limit as the userdb field
# quota_storage_size (2.4 ignores quota_rule without a word). "0B" means no limit.
DOVECOT24_PASSWORD_QUERY = DOVECOT_PASSWORD_QUERY.replace("'%u'", "'%{user}'")
DOVECOT24_USER_QUERY_TEMPLATE = (
    DOVECOT_USER_QUERY_TEMPLATE.replace("'%u'", "'%{{user}}'")
    .replace("'*:bytes=' || m.quota_bytes AS quota_rule", "m.quota_bytes || 'B' AS quota_storage_size")
)
DOVECOT_VERSIONS = ("2.3", "2.4")

# --- App passwords (mailaccess.AppPassword): a second SQL passdb, tried when the mailbox
# password does not match (Dovecot's default result_failure = continue). SQL never sees the
# typed password: Dovecot hashes it first (2.3: %{sha256:password}, hex by default, "Config
# Variables", modifiers; 2.4: %{password | sha256 | hexlify}, "Settings Variables", filters), and
# the query looks that hash up among the mailbox's active app passwords. A row comes back only
# when the hash matched, so it answers with nopassword: Dovecot accepts it without comparing
# again. A non-plaintext mechanism leaves the password empty, whose hash no row may hold (a
# table constraint). Protocol-limited passwords match Dovecot's service name: imap, pop3, or
# smtp for Postfix's SMTP AUTH (Dovecot's own submission service says "submission"). No protocol
# means these three, not every service: ManageSieve ("sieve"), doveadm and whatever a later
# Dovecot adds stay closed to app passwords (a leaked one must not install a lasting redirect).
_APP_PASSWORD_QUERY = (
    "SELECT m.address AS user, NULL AS password, 'Y' AS nopassword FROM app_password p "
    "JOIN mailbox m ON m.id = p.mailbox_id JOIN domain d ON d.id = m.domain_id "
    "WHERE p.secret_sha256 = '{hashed}' AND m.address = '{user}' AND p.revoked IS NULL "
    "AND (CASE '{service}' WHEN 'submission' THEN 'smtp' ELSE '{service}' END) = ANY (CASE cardinality(p.protocols) "
    "WHEN 0 THEN ARRAY['imap', 'pop3', 'smtp']::varchar[] ELSE p.protocols END) "
    "AND m.active AND " + _LIVE_DOMAIN
)
DOVECOT_APP_PASSWORD_QUERY = _APP_PASSWORD_QUERY.format(hashed="%{sha256:password}", user="%u", service="%s")
DOVECOT24_APP_PASSWORD_QUERY = _APP_PASSWORD_QUERY.format(
    hashed="%{password | sha256 | hexlify}", user="%{user}", service="%{protocol}")

# Tables each read-only role may SELECT; the quota role writes the tables of QUOTA_TABLES.
READER_TABLES = ["domain", "mailbox", "alias", "alias_domain"]
# mailaccess: app passwords (Dovecot) and send-as grants (Postfix).
READER_TABLES += ["app_password", "sender_grant"]
QUOTA_TABLES = ["quota_usage"]
# Vacation replies and last login (see their block below): Sieve's dict reads a view, last_login's
# dict writes a table. Every dict uses the quota role: Dovecot 2.4.1's dict server reused one
# database connection for dicts of the same host with different roles (measured: the sieve dict's
# reader connection then served quota_clone's writes, "permission denied for table quota_usage"),
# so every dict also gets the same connection settings (writes=True: with several hosts, the primary).
QUOTA_TABLES += ["last_login"]
QUOTA_READ_TABLES = ["vacation_sieve"]


@dataclass(frozen=True)
class MailConfigOptions:
    # One host, or several, comma-separated, each optionally with its own :port: read-only
    # replicas first, then the primary (see db_hosts()).
    db_host: str
    db_port: int
    db_name: str
    reader_role: str
    reader_password: str
    quota_role: str
    quota_password: str
    mail_root: str = "/var/vmail"
    uid: int = 5000
    gid: int = 5000
    dovecot_version: str = "2.3"
    recipient_delimiter: str = "+"   # plus-addressing: name+tag@ goes to name@ ("" = off)
    vmail_group: str = "vmail"       # the name of group `gid` on the mail host (Dovecot takes names only)


# Characters a recipient delimiter may use. Postfix (recipient_delimiter, postconf(5)) and Dovecot
# LMTP each take a set of characters; these are RFC 5322 atext that no configuration file treats
# specially (Dovecot expands %, main.cf expands $, both end a value at # or a blank, quotes and
# backslashes are escapes) and that are not in the served local parts' letters and digits.
RECIPIENT_DELIMITER_CHARS = "+-_.=&~"
# The mail root is spliced into user_query as an SQL string literal that Dovecot then %-expands,
# and Dovecot takes the home up to a blank: an absolute path of these characters only.
MAIL_ROOT_RE = re.compile(r"(/[A-Za-z0-9._@+-]+)+/?")
# Dovecot's unix_listener `group` is a group name (get_gid() in Dovecot's master settings).
GROUP_NAME_RE = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")


def validate_recipient_delimiter(value: str) -> str:
    """`value` if it is a usable recipient delimiter ("" turns plus-addressing off); else ValueError."""
    bad = sorted({char for char in value if char not in RECIPIENT_DELIMITER_CHARS})
    if bad:
        raise ValueError(f"recipient delimiter {value!r}: {''.join(bad)!r} cannot be used; use one or more of "
                         f"{' '.join(RECIPIENT_DELIMITER_CHARS)} (or nothing, to turn plus-addressing off)")
    if len(set(value)) != len(value):
        raise ValueError(f"recipient delimiter {value!r}: a character is given twice")
    return value


def validate_mail_root(value: str) -> str:
    """`value` if Dovecot's user_query can carry it as the mail root; else ValueError."""
    if not MAIL_ROOT_RE.fullmatch(value or ""):
        raise ValueError(f"mail root {value!r}: give an absolute path of letters, digits and . _ @ + - "
                         "(Dovecot expands %, the SQL quotes it in ' and a blank ends Dovecot's home)")
    return value


def validate_role_password(value: str, role: str) -> str:
    """`value` if Postfix's map files and Dovecot's settings can carry it verbatim; else ValueError.
    Postfix's pgsql_table(5) files drop blanks around a value and end it at the line break, so a
    password cannot start or end with a blank nor hold a control character. Every other character
    is escaped where needed (libpq quoting on 2.3, `%%{` and backslashes on 2.4)."""
    if not value:
        raise ValueError(f"the {role} password is empty")
    if value != value.strip():
        raise ValueError(f"the {role} password starts or ends with a blank, which Postfix's map files drop: "
                         "choose one without")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError(f"the {role} password contains a control character (line break, tab...): choose one without")
    return value


# Where dbroles and mailconfig take the role passwords from when the option is not given: a
# command-line option is readable by every local user in `ps` (/proc/PID/cmdline) and lands in
# the shell's history; a process's environment is readable by its own user and root only.
ROLE_PASSWORD_ENV = {"reader": "MAILADMIN_READER_PASSWORD", "quota": "MAILADMIN_QUOTA_PASSWORD"}


def role_password(given: str | None, role: str) -> str:
    """The `role` ("reader" or "quota") password: `given` (the --ROLE-password option) or else the
    ROLE_PASSWORD_ENV variable, checked by validate_role_password. Raises ValueError naming both."""
    value = given if given is not None else os.environ.get(ROLE_PASSWORD_ENV[role])
    if value is None:
        raise ValueError(f"the {role} password is missing: set {ROLE_PASSWORD_ENV[role]} in the environment "
                         f"(kept out of `ps` and the shell history), or give --{role}-password")
    return validate_role_password(value, role)


def validate_options(options: MailConfigOptions) -> None:
    """Raise ValueError naming the first option that would break a generated file."""
    validate_mail_root(options.mail_root)
    validate_recipient_delimiter(options.recipient_delimiter)
    validate_role_password(options.reader_password, "reader")
    validate_role_password(options.quota_password, "quota")
    db_hosts(options)


def dovecot_user_query(options: MailConfigOptions) -> str:
    validate_mail_root(options.mail_root)
    template = DOVECOT24_USER_QUERY_TEMPLATE if options.dovecot_version == "2.4" else DOVECOT_USER_QUERY_TEMPLATE
    return template.format(mail_root=_postfix_quote(options.mail_root).rstrip("/"),
                                              uid=int(options.uid), gid=int(options.gid))


def _postfix_quote(value: str) -> str:
    # main.cf-style files take the rest of the line verbatim; a newline would end the value.
    if "\n" in value or "\r" in value:
        raise ValueError("configuration values cannot contain line breaks")
    return value


def db_hosts(options: MailConfigOptions) -> list[tuple[str, int]]:
    """[(host, port)] from `db_host` ("replica1,replica2:5433,primary,[2001:db8::5]:5433"; a
    host without a port takes `db_port`; an IPv6 address takes its port inside brackets, as in
    a URL); raises ValueError for an empty entry, a bad port, a socket path (Postfix's
    chrooted daemons reach the database over TCP only), or anything that is not a host name
    or IP address: the names are written into Postfix's `hosts =` (split at blanks and commas,
    pgsql_table(5)) and libpq's `host=`, where a blank or quote would add or break a host.
    IPv6 addresses come back without brackets: Postfix splits `inet:host:port` at the last
    colon and hands the host to libpq, which takes no brackets."""
    hosts = []
    for entry in options.db_host.split(","):
        entry = entry.strip()
        bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(.*))?", entry)
        if bracketed:
            host, port = bracketed.group(1), bracketed.group(2)
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        else:
            host, port = entry, None
        if not host or host.startswith("/"):
            raise ValueError(f"database host {entry!r}: give a TCP host name or address")
        if not _is_host(host) or (bracketed and ":" not in host):
            raise ValueError(f"database host {entry!r}: not a host name or IP address "
                             "(write an IPv6 address with a port as [address]:port)")
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"database host {entry!r}: the port must be a number from 1 to 65535")
        hosts.append((host, int(port) if port is not None else int(options.db_port)))
    return hosts


def _is_host(value: str) -> bool:
    # An IP address, or a DNS name (letters, digits, hyphens, underscores as some internal
    # names have, dot-separated; RFC 1123 section 2.1 with that one allowance).
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(re.fullmatch(r"(?!-)[A-Za-z0-9_-]{1,63}(?:\.(?!-)[A-Za-z0-9_-]{1,63})*\.?", value))


# How long a client waits for a database host that does not answer before trying the next
# one (libpq's connect_timeout, seconds): a primary lost without a TCP reset would otherwise
# hold every Dovecot login for the kernel's full connect timeout.
CONNECT_TIMEOUT_SECONDS = 3


def _dovecot_connect(options: MailConfigOptions, role: str, password: str, *, writes: bool = False) -> str:
    """libpq parameters for Dovecot. With several hosts, libpq tries them in the given order
    (replicas first) and moves to the next when one is down; `writes` (the quota dict) adds
    target_session_attrs=read-write, so that libpq settles on whichever host is the primary,
    also after a failover promoted a replica."""
    def quoted(value: str) -> str:
        # libpq connection strings: single-quote values, escaping quotes and backslashes.
        # Dovecot's .conf.ext files end a value at the line break, as main.cf does.
        return "'" + _postfix_quote(str(value)).replace("\\", "\\\\").replace("'", "\\'") + "'"
    hosts = db_hosts(options)
    connect = (f"host={quoted(','.join(h for h, _ in hosts))} port={quoted(','.join(str(p) for _, p in hosts))} "
               f"dbname={quoted(options.db_name)} user={quoted(role)} password={quoted(password)}")
    if len(hosts) > 1:
        connect += f" connect_timeout={CONNECT_TIMEOUT_SECONDS}"
        if writes:
            connect += " target_session_attrs=read-write"
    return connect


def render_postfix_map(pmap: PostfixMap, options: MailConfigOptions) -> str:
    return "\n".join([
        f"# {pmap.setting}: {pmap.purpose}",
        "# Generated by `manage.py mailconfig`; see docs/mailstack.md.",
        # Several hosts: Postfix tries them in random order and skips one that fails for a
        # minute (pgsql_table(5)); every host answers these read-only queries.
        "hosts = " + " ".join(f"inet:{_postfix_quote(host)}:{port}" for host, port in db_hosts(options)),
        f"dbname = {_postfix_quote(options.db_name)}",
        f"user = {_postfix_quote(options.reader_role)}",
        f"password = {_postfix_quote(options.reader_password)}",
        f"query = {pmap.query}",
        "",
    ])


# The parameters main.cf.snippet sets: the maps and recipient_delimiter, which Postfix's defaults
# and Debian's stock main.cf leave empty (tests hold it to this). It never sets a restriction list:
# main.cf has no way to add to one, and an admin's own smtpd_recipient_restrictions would be lost
# (the last definition wins); RECIPIENT_RESTRICTIONS_STEP adds ours in front of theirs instead.
MAIN_CF_MAP_PARAMETERS = ("virtual_mailbox_domains", "virtual_alias_domains", "relay_domains",
                          "virtual_mailbox_maps", "virtual_alias_maps", "transport_maps",
                          "smtpd_sender_login_maps")
MAIN_CF_SNIPPET_PARAMETERS = MAIN_CF_MAP_PARAMETERS + ("recipient_delimiter",)


def recipient_access_restriction(postfix_dir: Path) -> str:
    """The restriction that refuses inactive mailboxes and aliases at RCPT time (access(5)). It
    answers only for them (DUNNO otherwise), so it goes first in smtpd_recipient_restrictions,
    before any permit_* of the admin's that would accept the recipient without asking it."""
    return f"check_recipient_access proxy:pgsql:{postfix_dir / 'recipient_access.cf'}"


# docs/mailstack.md step 3, for the default --out /etc/mailadmin: ours first, then the admin's own
# list, whatever it is (empty in Debian's stock main.cf). Postfix lists take blanks or commas.
RECIPIENT_RESTRICTIONS_STEP = (
    'postconf -e "smtpd_recipient_restrictions = '
    + recipient_access_restriction(Path("/etc/mailadmin/postfix"))
    + ' $(postconf -h smtpd_recipient_restrictions)"'
)


def render_main_cf_snippet(postfix_dir: Path, recipient_delimiter: str = "+") -> str:
    def maps_for(setting: str) -> str:
        return ", ".join(f"proxy:pgsql:{postfix_dir / (m.name + '.cf')}" for m in POSTFIX_MAPS
                         if m.setting == setting)
    lines = ["# mailadmin: append to main.cf (generated by `manage.py mailconfig`).",
             "# Lookups go through proxymap, so chrooted daemons and a single pool of",
             "# database connections serve them."]
    lines += [f"{setting} = {maps_for(setting)}" for setting in MAIN_CF_MAP_PARAMETERS]
    # Plus-addressing: Postfix looks name+tag@ up, then name@, before the catch-all @domain.
    lines += [f"recipient_delimiter = {validate_recipient_delimiter(recipient_delimiter)}"]
    lines += ["# Inactive mailboxes and aliases are refused at RCPT time by",
              f"#   {recipient_access_restriction(postfix_dir)}",
              "# put first in your smtpd_recipient_restrictions, ahead of your own (docs/mailstack.md, step 3).",
              # Additive to the distribution's main.cf: it must not set proxy_read_maps. Postfix's
              # default already names all these parameters, and replacing it drops the rest
              # (Debian's stock local_recipient_maps = proxy:unix:passwd.byname then kills every
              # smtpd); main.cf cannot append to a parameter ("$proxy_read_maps ..." is a macro loop).
              "# proxy_read_maps is left at Postfix's default, which already allows these lookups.", ""]
    return "\n".join(lines)


def render_dovecot_sql(options: MailConfigOptions) -> str:
    return "\n".join([
        "# Dovecot SQL passdb/userdb (generated by `manage.py mailconfig`; see docs/mailstack.md).",
        "driver = pgsql",
        f"connect = {_dovecot_connect(options, options.reader_role, options.reader_password)}",
        "# The scheme prefix on each hash ({ARGON2ID}, {SHA512-CRYPT}, ...) tells Dovecot how to verify it.",
        "default_pass_scheme = ARGON2ID",
        f"password_query = {DOVECOT_PASSWORD_QUERY}",
        f"user_query = {dovecot_user_query(options)}",
        f"iterate_query = {DOVECOT_ITERATE_QUERY}",
        "",
    ])


def render_dovecot_app_password_sql(options: MailConfigOptions) -> str:
    """dovecot-app-passwords.conf.ext (2.3): the second passdb, for app passwords."""
    return "\n".join([
        "# Dovecot SQL passdb for app passwords (generated by `manage.py mailconfig`; see docs/mailstack.md).",
        "driver = pgsql",
        f"connect = {_dovecot_connect(options, options.reader_role, options.reader_password)}",
        f"password_query = {DOVECOT_APP_PASSWORD_QUERY}",
        "",
    ])


def render_dovecot_dict(options: MailConfigOptions) -> str:
    blocks = [
        "# Dovecot quota dict (generated by `manage.py mailconfig`; see docs/mailstack.md).",
        f"connect = {_dovecot_connect(options, options.quota_role, options.quota_password, writes=True)}",
    ]
    for pattern, column in (("priv/quota/storage", "bytes"), ("priv/quota/messages", "messages")):
        blocks += ["map {", f"  pattern = {pattern}", "  table = quota_usage",
                   "  username_field = username", f"  value_field = {column}", "}"]
    return "\n".join(blocks + [""])


def _dict_listener(options: MailConfigOptions) -> str:
    """The dict socket's listener, the same in 2.3 and 2.4: mail processes run with the vmail uid
    and gid from the userdb and reach Dovecot's dict through it, by the group (Dovecot takes a
    group name here, not a number: the name of --gid on the mail host)."""
    if not GROUP_NAME_RE.fullmatch(options.vmail_group or ""):
        raise ValueError(f"vmail group {options.vmail_group!r}: not a group name")
    return "\n".join([
        "# Mail processes run with the vmail group and must reach the dict service.",
        "service dict {",
        "  unix_listener dict {",
        "    mode = 0660",
        f"    group = {options.vmail_group}",
        "  }",
        "}",
    ])


# Inside `protocol lmtp`, for both versions.
LMTP_QUOTA_CHECK = ("  # Refuse over-quota mail at RCPT time, so Postfix gets the answer while the sender is connected.\n"
                    "  lmtp_rcpt_check_quota = yes")


def render_dovecot_snippet(dovecot_dir: Path, options: MailConfigOptions) -> str:
    sql = dovecot_dir / "dovecot-sql.conf.ext"
    dict_conf = dovecot_dir / "dovecot-dict-sql.conf.ext"
    return f"""# mailadmin: !include this file from dovecot.conf (Dovecot 2.3; generated by `manage.py mailconfig`).
# Logins are addresses, compared lower-case like the panel stores them.
auth_username_format = %Lu
# LMTP delivers name+tag@ to name@ (the same delimiter as Postfix's).
recipient_delimiter = {_postfix_quote(options.recipient_delimiter)}
passdb {{
  driver = sql
  args = {sql}
}}
# App passwords: tried when the mailbox password does not match (docs/mailstack.md).
passdb {{
  driver = sql
  args = {dovecot_dir / "dovecot-app-passwords.conf.ext"}
}}
userdb {{
  driver = sql
  args = {sql}
}}
mail_location = maildir:~/Maildir
first_valid_uid = {int(options.uid)}
mail_plugins = $mail_plugins quota
# Each protocol block names quota again: inside a protocol an admin configured earlier (e.g.
# `mail_plugins = $mail_plugins sieve` in conf.d/20-lmtp.conf), $mail_plugins is that filter's
# value, which the global line above does not reach. Dovecot drops repeated names.
protocol imap {{
  mail_plugins = $mail_plugins quota imap_quota last_login
}}
dict {{
  quota = pgsql:{dict_conf}
}}
plugin {{
  # Usage goes to the panel's quota_usage table through the dict proxy; the limit comes
  # from the userdb's quota_rule (the mailbox quota). no-unset keeps the row on recalc.
  quota = dict:User quota::no-unset:proxy::quota
}}
{_dict_listener(options)}
protocol lmtp {{
{LMTP_QUOTA_CHECK}
}}
""" + render_dovecot_vacation_lastlogin_snippet(dovecot_dir)


def _dovecot24_quote(value: str) -> str:
    """A Dovecot 2.4 setting value in double quotes (2.4 settings expand `%{...}`, so a literal
    `%{` is written `%%{`; see Dovecot's "Settings Variables")."""
    value = _postfix_quote(str(value))  # no line breaks either
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("%{", "%%{") + '"'


def _dovecot24_pgsql(options: MailConfigOptions, role: str, password: str, indent: str, *,
                     writes: bool = False) -> str:
    """The `sql_driver`/`pgsql` settings for one Dovecot 2.4 connection, indented by `indent`.

    Several hosts go into one `pgsql` block as libpq host and port lists in its `parameters`
    (Dovecot passes them to PQconnectStartParams after the block name's host, and libpq keeps
    the last value of a key), so libpq tries them in the given order, replicas first, as on 2.3.
    Separate `pgsql` blocks would not do: 2.4 balances queries between them (the `pgsql`
    setting, Dovecot's settings reference), which would send quota writes to a read-only
    replica. `writes` (the quota dict) adds target_session_attrs=read-write, so libpq settles
    on whichever host is the primary, also after a failover promoted a replica.
    Raises ValueError for a bad host list (see db_hosts)."""
    hosts = db_hosts(options)
    parameters = []
    if len(hosts) > 1:
        parameters += [f"host = {_dovecot24_quote(','.join(host for host, _ in hosts))}",
                       f"port = {_dovecot24_quote(','.join(str(port) for _, port in hosts))}",
                       f"connect_timeout = {CONNECT_TIMEOUT_SECONDS}"]
        if writes:
            parameters.append("target_session_attrs = read-write")
    else:
        parameters.append(f"port = {hosts[0][1]}")
    parameters += [f"dbname = {_dovecot24_quote(options.db_name)}",
                   f"user = {_dovecot24_quote(role)}",
                   f"password = {_dovecot24_quote(password)}"]
    return "\n".join(indent + line for line in [
        "sql_driver = pgsql",
        # The block's name is the first host; with a list, the parameters' host list wins.
        f"pgsql {_dovecot24_quote(hosts[0][0])} {{",
        "  parameters {",
        *("    " + parameter for parameter in parameters),
        "  }",
        "}",
    ])


def render_dovecot24_snippet(options: MailConfigOptions) -> str:
    """conf.snippet for Dovecot 2.4: everything in one file (2.4 has no `args =` to name others),
    so it holds both passwords and is written 0640."""
    quota_maps = "\n".join(f"""    dict_map priv/quota/{key} {{
      sql_table = quota_usage
      username_field = username
      value_field {column} {{
        type = uint
      }}
    }}""" for key, column in (("storage", "bytes"), ("messages", "messages")))
    return f"""# mailadmin: !include this file at the end of dovecot.conf (Dovecot 2.4; generated by
# `manage.py mailconfig`, see docs/mailstack.md). It holds both database passwords: mode 0640.
# Logins are addresses, compared lower-case like the panel stores them: that is 2.4's default
# auth_username_format (%{{user | lower}}).

# passdb/userdb read the panel's tables as the read-only role.
{_dovecot24_pgsql(options, options.reader_role, options.reader_password, "")}
passdb sql {{
  # The scheme prefix on each hash ({{ARGON2ID}}, {{SHA512-CRYPT}}, ...) tells Dovecot how to verify it.
  default_password_scheme = ARGON2ID
  query = {DOVECOT24_PASSWORD_QUERY}
}}
# App passwords: tried when the mailbox password does not match; SQL sees only the SHA-256 of
# the typed password (docs/mailstack.md).
# Its block is not named "sql", so the query is written by its full name, passdb_sql_query.
passdb app_passwords {{
  driver = sql
  sql_query = {DOVECOT24_APP_PASSWORD_QUERY}
}}
# Hashes imported from another panel ({{MD5-CRYPT}}, {{PLAIN-MD5}}, ...) keep working, as on 2.3:
# 2.4 refuses these "weak" schemes unless allowed. The panel writes only {{ARGON2ID}} and
# upgrades an old hash at the user's next /me/ login (docs/password-schemes.md).
auth_allow_weak_schemes = yes
userdb sql {{
  query = {dovecot_user_query(options)}
  iterate_query = {DOVECOT_ITERATE_QUERY}
}}

# LMTP delivers name+tag@ to name@ (the same delimiter as Postfix's).
recipient_delimiter = {_dovecot24_quote(options.recipient_delimiter)}
mail_driver = maildir
mail_path = ~/Maildir
# INBOX is the Maildir itself (the maildir driver's default "."); Debian 13's conf.d/10-mail.conf
# points it at /var/mail/%{{user}}. An empty value is not the default: INBOX would be ~/Maildir/.INBOX.
mail_inbox_path = .
first_valid_uid = {int(options.uid)}
mail_plugins {{
  quota = yes
  quota_clone = yes
}}
protocol imap {{
  mail_plugins {{
    imap_quota = yes
  }}
}}

# Usage is counted in Dovecot's own indexes; quota_clone copies the totals (absolute values,
# INSERT ... ON CONFLICT DO UPDATE) into the panel's quota_usage table through the dict server,
# after each save, copy or expunge. The limit is the userdb's quota_storage_size (0B = none).
quota "User quota" {{
  driver = count
}}
quota_clone {{
  dict proxy {{
    name = quota
  }}
}}
dict_server {{
  dict quota {{
    driver = sql
{_dovecot24_pgsql(options, options.quota_role, options.quota_password, "    ", writes=True)}
{quota_maps}
  }}
}}
{_dict_listener(options)}
protocol lmtp {{
{LMTP_QUOTA_CHECK}
  # LMTP recipients are full addresses too (Debian 13's conf.d/20-lmtp.conf strips the domain).
  auth_username_format = %{{user | lower}}
}}
""" + render_dovecot24_vacation_lastlogin_snippet(options)


def _group_id(name: str | None) -> int | None:
    if not name:
        return None
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def write_file_atomically(path: Path, text: str, *, mode: int, gid: int | None = None) -> Path:
    """Replace `path` with a file holding `text` (mode `mode`, group `gid` if given); return `path`.

    SECURITY: the temporary file is created exclusively (O_EXCL|O_NOFOLLOW) in a fresh private
    directory (mode 0700) beside `path`, then renamed over it. A symlink or `.tmp` file planted in
    the output folder is never opened or followed: rename(2) replaces a link at `path` itself,
    and no other user can reach the private directory while the file has its final mode.
    Raises OSError.
    """
    private = tempfile.mkdtemp(prefix=".mailconfig-", dir=path.parent)
    try:
        tmp = os.path.join(private, path.name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            if gid is not None:
                os.fchown(handle.fileno(), -1, gid)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return path


def write_config(out: Path, options: MailConfigOptions, *, postfix_group: str | None = "postfix",
                 dovecot_group: str | None = "dovecot") -> list[Path]:
    """Write every file under `out`. Files holding a password are mode 0640, group-readable by
    the daemon that opens them (Postfix's proxymap runs as postfix; Dovecot's dict as dovecot)
    when that group exists and we may change it."""
    for sub in ("postfix", "dovecot"):
        if (out / sub).is_symlink():
            # SECURITY: a planted link would send files holding passwords elsewhere.
            raise ValueError(f"{out / sub} is a symbolic link; refusing to write through it")
    validate_options(options)
    postfix_dir = (out / "postfix").resolve()
    dovecot_dir = (out / "dovecot").resolve()
    postfix_dir.mkdir(parents=True, exist_ok=True)
    dovecot_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(path: Path, text: str, secret: bool, group: str | None = None) -> None:
        gid = _group_id(group) if secret and os.geteuid() == 0 else None
        written.append(write_file_atomically(path, text, mode=0o640 if secret else 0o644, gid=gid))

    for pmap in POSTFIX_MAPS:
        write(postfix_dir / f"{pmap.name}.cf", render_postfix_map(pmap, options), True, postfix_group)
    write(postfix_dir / "main.cf.snippet", render_main_cf_snippet(postfix_dir, options.recipient_delimiter), False)
    if options.dovecot_version == "2.4":
        write(dovecot_dir / "conf.snippet", render_dovecot24_snippet(options), True, dovecot_group)
        return written
    write(dovecot_dir / "dovecot-sql.conf.ext", render_dovecot_sql(options), True, dovecot_group)
    write(dovecot_dir / "dovecot-dict-sql.conf.ext", render_dovecot_dict(options), True, dovecot_group)
    write(dovecot_dir / SIEVE_DICT_FILE, render_dovecot_sieve_dict(options), True, dovecot_group)
    write(dovecot_dir / LAST_LOGIN_DICT_FILE, render_dovecot_last_login_dict(options), True, dovecot_group)
    write(dovecot_dir / "dovecot-app-passwords.conf.ext", render_dovecot_app_password_sql(options), True,
          dovecot_group)
    write(dovecot_dir / "conf.snippet", render_dovecot_snippet(dovecot_dir, options), False)
    return written


def explainable_queries(mail_root: str = "/var/vmail", uid: int = 5000, gid: int = 5000) -> dict[str, str]:
    """Every query with a realistic key substituted the way Postfix/Dovecot would, for EXPLAIN."""
    def postfix_expand(query: str, key: str) -> str:
        local, _sep, domain = key.rpartition("@")
        q = query.replace("%s", key.replace("'", "''"))
        return q.replace("%u", local.replace("'", "''")).replace("%d", domain.replace("'", "''"))

    queries = {m.name: postfix_expand(m.query, m.example_key) for m in POSTFIX_MAPS}
    options = MailConfigOptions("h", 5432, "db", "r", "p", "q", "p", mail_root, uid, gid)
    queries["dovecot_password_query"] = DOVECOT_PASSWORD_QUERY.replace("%u", "john@example.org")
    queries["dovecot_user_query"] = dovecot_user_query(options).replace("%u", "john@example.org")
    queries.update(_explainable_vacation_lastlogin_queries())
    queries["dovecot_app_password_query"] = (DOVECOT_APP_PASSWORD_QUERY.replace("%{sha256:password}", "ab" * 32)
                                             .replace("%u", "john@example.org").replace("%s", "imap"))
    return queries


def _explainable_vacation_lastlogin_queries() -> dict[str, str]:
    """The Sieve dict's two lookups and last_login's upsert, as Dovecot runs them for john@example.org."""
    user = "john@example.org"
    return {
        "sieve_name_query": SIEVE_NAME_QUERY.replace("%k", SIEVE_SCRIPT_NAME).replace("%s", user),
        "sieve_data_query": SIEVE_DATA_QUERY.replace("%k", "0" * 32).replace("%s", user),
        "last_login_upsert": LAST_LOGIN_UPSERT.replace("%t", "1767225600").replace("%s", user),
    }


# --- Vacation replies (Sieve) and last login ----------------------------------------------------
# Sieve (Pigeonhole) reads each mailbox's script through its dict storage: it asks the dict for
# priv/sieve/name/active (-> a data ID, the script's MD5) and, when it has no compiled binary with
# that ID, for priv/sieve/data/<ID> (-> the script). Both come from the view vacation_sieve as the
# read-only role; the script is compiled into ~/.sieve-bin. Sieve runs at LMTP delivery only.
# The last_login plugin (IMAP and POP3 logins) writes shared/last-login/<user> = Unix time in
# seconds into last_login as the quota role (an upsert by username).
SIEVE_SCRIPT_NAME = "active"
SIEVE_DICT_FILE = "dovecot-dict-sieve.conf.ext"
LAST_LOGIN_DICT_FILE = "dovecot-dict-lastlogin.conf.ext"
# (dict key, view column, key column) of the two Sieve lookups; shared by both Dovecot versions.
SIEVE_DICT_MAPS = (("priv/sieve/name/$script_name", "data_id", "script_name"),
                   ("priv/sieve/data/$data_id", "script", "data_id"))
# What Dovecot then runs, for the docs and EXPLAIN ('%s' = the user, '%k' = the key).
SIEVE_NAME_QUERY = "SELECT data_id FROM vacation_sieve WHERE script_name = '%k' AND username = '%s'"
SIEVE_DATA_QUERY = "SELECT script FROM vacation_sieve WHERE data_id = '%k' AND username = '%s'"
LAST_LOGIN_UPSERT = ("INSERT INTO last_login (last_login, username) VALUES (%t, '%s') "
                     "ON CONFLICT (username) DO UPDATE SET last_login = EXCLUDED.last_login")


def render_dovecot_sieve_dict(options: MailConfigOptions) -> str:
    """dovecot-dict-sieve.conf.ext (Dovecot 2.3): the Sieve dict, as the quota role (SELECT on
    vacation_sieve only), like every dict."""
    blocks = ["# Dovecot Sieve script dict (generated by `manage.py mailconfig`; see docs/mailstack.md).",
              f"connect = {_dovecot_connect(options, options.quota_role, options.quota_password, writes=True)}"]
    for pattern, column, key in SIEVE_DICT_MAPS:
        blocks += ["map {", f"  pattern = {pattern}", "  table = vacation_sieve", "  username_field = username",
                   f"  value_field = {column}", "  fields {", f"    {key} = ${key}", "  }", "}"]
    return "\n".join(blocks + [""])


def render_dovecot_last_login_dict(options: MailConfigOptions) -> str:
    """dovecot-dict-lastlogin.conf.ext (Dovecot 2.3): last_login's dict, the quota (writer) role."""
    return "\n".join([
        "# Dovecot last-login dict (generated by `manage.py mailconfig`; see docs/mailstack.md).",
        f"connect = {_dovecot_connect(options, options.quota_role, options.quota_password, writes=True)}",
        "map {", "  pattern = shared/last-login/$user", "  table = last_login", "  value_field = last_login",
        "  value_type = uint", "  fields {", "    username = $user", "  }", "}", ""])


def render_dovecot_vacation_lastlogin_snippet(dovecot_dir: Path) -> str:
    """The part of the 2.3 conf.snippet for vacation replies and last login (the imap
    mail_plugins line above also names last_login: a second `protocol imap` would reset it)."""
    return f"""
# Vacation replies: Sieve at LMTP delivery, the script read from the panel's database
# (view vacation_sieve) through the dict proxy; compiled scripts are cached in ~/.sieve-bin.
protocol lmtp {{
  mail_plugins = $mail_plugins quota sieve
}}
# Last login: IMAP and POP3 logins write Unix time (seconds) into the panel's last_login table.
protocol pop3 {{
  mail_plugins = $mail_plugins quota last_login
}}
dict {{
  sieve = pgsql:{dovecot_dir / SIEVE_DICT_FILE}
  lastlogin = pgsql:{dovecot_dir / LAST_LOGIN_DICT_FILE}
}}
plugin {{
  sieve = dict:proxy::sieve;name={SIEVE_SCRIPT_NAME};bindir=~/.sieve-bin
  last_login_dict = proxy::lastlogin
  last_login_key = last-login/%u
}}
"""


def render_dovecot24_vacation_lastlogin_snippet(options: MailConfigOptions) -> str:
    """The part of the 2.4 conf.snippet for vacation replies and last login. A key field's
    variable is its `value` in 2.4.1 (`doveconf -d`: dict_map_key_field_value); later 2.4
    documentation calls it `pattern`, which 2.4.1 refuses."""
    sieve_maps = "\n".join(f"""    dict_map {pattern} {{
      sql_table = vacation_sieve
      username_field = username
      value_field {column} {{
      }}
      key_field {key} {{
        value = ${key}
      }}
    }}""" for pattern, column, key in SIEVE_DICT_MAPS)
    return f"""
# Vacation replies: Sieve at LMTP delivery, the script read from the panel's database
# (view vacation_sieve, quota role) through the dict server; compiled scripts in ~/.sieve-bin.
protocol lmtp {{
  mail_plugins {{
    sieve = yes
  }}
}}
sieve_script personal {{
  driver = dict
  name = {SIEVE_SCRIPT_NAME}
  bin_path = ~/.sieve-bin
  dict proxy {{
    name = sieve
  }}
}}
# Last login: IMAP and POP3 logins write Unix time (seconds) into the panel's last_login table
# (quota role).
protocol imap {{
  mail_plugins {{
    last_login = yes
  }}
}}
protocol pop3 {{
  mail_plugins {{
    last_login = yes
  }}
}}
last_login {{
  dict proxy {{
    name = lastlogin
  }}
}}
last_login_key = last-login/%{{user}}
dict_server {{
  dict sieve {{
    driver = sql
{_dovecot24_pgsql(options, options.quota_role, options.quota_password, "    ", writes=True)}
{sieve_maps}
  }}
  dict lastlogin {{
    driver = sql
{_dovecot24_pgsql(options, options.quota_role, options.quota_password, "    ", writes=True)}
    dict_map shared/last-login/$user {{
      sql_table = last_login
      value_field last_login {{
        type = uint
      }}
      key_field username {{
        value = $user
      }}
    }}
  }}
}}
"""
