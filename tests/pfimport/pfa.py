"""Postfixadmin databases for the import tests: its schema at 2.9x (as in seed 000) or 4.x,
on the real MariaDB or PostgreSQL, filled with generated rows whose password hashes come
from the real `doveadm pw`.

The DDL follows Postfixadmin's upgrade.php at those versions (columns the importer does not
read are kept, so the reader is tested against the real shape)."""
from __future__ import annotations

import functools
import os
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg
import pymysql

# One password per Postfixadmin `encrypt` setting, and how Postfixadmin stored its hash:
# bare crypt strings (php_crypt, md5crypt, md5) or with the scheme prefix (dovecot:SCHEME).
# (scheme, bare): the flag is doveadm_hash's `bare` (it used to be the opposite, so the bare
# crypt strings of php_crypt and md5crypt, seed 000's case, were never what the tests imported).
SCHEMES = [
    ("SHA512-CRYPT", True),   # php_crypt, Postfixadmin's default: bare $6$
    ("MD5-CRYPT", True),      # md5crypt, as in seed 000: bare $1$
    ("BLF-CRYPT", True),      # php_crypt:BLOWFISH: bare $2y$
    ("SHA256-CRYPT", False),  # dovecot:SHA256-CRYPT
    ("ARGON2I", False),       # dovecot:ARGON2I
    ("PLAIN-MD5", True),      # md5: bare hex
]


def password_for(scheme: str) -> str:
    return f"old-{scheme.lower()}-password"


@functools.cache
def doveadm_hash(scheme: str, bare: bool) -> str:
    """A hash of password_for(scheme) made by the real doveadm, as Postfixadmin stored it."""
    out = subprocess.run(["doveadm", "pw", "-s", scheme, "-p", password_for(scheme)], check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out.startswith("{" + scheme + "}"), out
    return out[len(scheme) + 2:] if bare else out


def ddl(flavour: str, version: str) -> list[str]:
    """CREATE TABLEs of Postfixadmin `version` ("2.9" or "4") for `flavour` ("mysql"/"postgresql")."""
    my = flavour == "mysql"
    b = (lambda default: f"tinyint(1) NOT NULL DEFAULT {int(default)}") if my else \
        (lambda default: f"boolean NOT NULL DEFAULT {'true' if default else 'false'}")
    ts = "datetime NOT NULL DEFAULT '2000-01-01 00:00:00'" if my else "timestamptz NOT NULL DEFAULT '2000-01-01'"
    big = "bigint NOT NULL DEFAULT 0"
    v4 = version == "4"
    serial = "int NOT NULL AUTO_INCREMENT" if my else "serial"
    suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if my else ""
    tables = [
        f"""CREATE TABLE domain (domain varchar(255) NOT NULL, description varchar(255) NOT NULL DEFAULT '',
            aliases int NOT NULL DEFAULT 0, mailboxes int NOT NULL DEFAULT 0, maxquota {big}, quota {big},
            transport varchar(255) {'NOT NULL' if my and not v4 else 'NULL'}, backupmx {b(False)}, created {ts},
            modified {ts}, active {b(True)}{', password_expiry int DEFAULT 0' if v4 else ''},
            PRIMARY KEY (domain)){suffix}""",
        f"""CREATE TABLE mailbox (username varchar(255) NOT NULL, password varchar(255) NOT NULL,
            name varchar(255) NOT NULL DEFAULT '', maildir varchar(255) NOT NULL, quota {big},
            local_part varchar(255) NOT NULL, domain varchar(255) NOT NULL, created {ts}, modified {ts},
            active {b(True)}{''', phone varchar(30) NOT NULL DEFAULT '', email_other varchar(255) NOT NULL DEFAULT '',
            token varchar(255) NOT NULL DEFAULT '', token_validity ''' + ts + ', password_expiry ' + ts +
            ', totp_secret varchar(255) NULL, smtp_active ' + b(True) if v4 else ''},
            PRIMARY KEY (username)){suffix}""",
        f"""CREATE TABLE alias (address varchar(255) NOT NULL, goto text NOT NULL, domain varchar(255) NOT NULL,
            {"description varchar(255) NOT NULL DEFAULT ''," if v4 else ''} created {ts}, modified {ts},
            active {b(True)}, PRIMARY KEY (address)){suffix}""",
        f"""CREATE TABLE alias_domain (alias_domain varchar(255) NOT NULL, target_domain varchar(255) NOT NULL,
            created {ts}, modified {ts}, active {b(True)}, PRIMARY KEY (alias_domain)){suffix}""",
        f"""CREATE TABLE admin (username varchar(255) NOT NULL, password varchar(255) NOT NULL,
            superadmin {b(False)}, created {ts}, modified {ts}, active {b(True)}
            {', totp_secret varchar(255) NULL' if v4 else ''}, PRIMARY KEY (username)){suffix}""",
        f"""CREATE TABLE domain_admins (username varchar(255) NOT NULL, domain varchar(255) NOT NULL,
            created {ts}, active {b(True)}{f', id {serial}, PRIMARY KEY (id)' if v4 else ''}){suffix}""",
        f"""CREATE TABLE quota2 (username varchar(100) NOT NULL, bytes {big}, messages int NOT NULL DEFAULT 0,
            PRIMARY KEY (username)){suffix}""",
        f"""CREATE TABLE config (id {serial}, name varchar(20) NOT NULL DEFAULT '', value varchar(20) NOT NULL DEFAULT '',
            PRIMARY KEY (id), UNIQUE (name)){suffix}""",
    ]
    return tables


@dataclass
class PfaData:
    """What the generated source holds, for the assertions."""

    domains: list[str] = field(default_factory=list)
    mailboxes: dict[str, str] = field(default_factory=dict)  # address -> scheme of its hash
    aliases: dict[str, list[str]] = field(default_factory=dict)
    alias_domains: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # source key -> expected problem code


def rows(version: str, *, domains: int = 5, mailboxes_per_domain: int = 200) -> tuple[dict[str, list[tuple]], PfaData]:
    """Generated rows per table, with the traps a real installation has."""
    data = PfaData()
    t: dict[str, list[tuple]] = {k: [] for k in ("domain", "mailbox", "alias", "alias_domain", "admin",
                                                 "domain_admins", "quota2", "config")}
    t["config"].append(("version", "1835" if version == "2.9" else "1856"))
    t["domain"].append(("ALL", "", 0, 0, 0, 0, "virtual", 0, 1))  # the legacy superadmin marker
    for d in range(domains):
        name = f"pfa{d}.example"
        data.domains.append(name)
        # maxquota 100 MB, domain quota unlimited; domain 0 limits mailboxes to 10 but has more.
        t["domain"].append((name, f"Domain {d}", 0 if d else -1, 10 if d == 0 else 0, 100, 0, "virtual", 0, 1))
        for m in range(mailboxes_per_domain):
            scheme, bare = SCHEMES[m % len(SCHEMES)]
            local = f"user{m}"
            address = f"{local}@{name}"
            data.mailboxes[address] = scheme
            quota = (m % 5) * 10 * 1024000  # 0 (unlimited) .. 40 MB
            t["mailbox"].append((address, doveadm_hash(scheme, bare), f"User {m}", f"{name}/{local}/", quota,
                                 local, name, 1))
            t["alias"].append((address, address, name, 1))  # Postfixadmin's self-alias
            if m % 50 == 1:  # forwarding, keeping a copy
                t["alias"][-1] = (address, f"{address},ext{m}@elsewhere.example", name, 1)
            t["quota2"].append((address, m * 1000, m))
        t["alias"].append((f"sales@{name}", f"user0@{name}, user1@{name}", name, 1))
        data.aliases[f"sales@{name}"] = [f"user0@{name}", f"user1@{name}"]
        t["alias"].append((f"@{name}", f"user2@{name}", name, 1))
        data.aliases[f"@{name}"] = [f"user2@{name}"]
    first = data.domains[0]
    # Traps: a loop, an invalid destination, an alias domain that is a domain with mailboxes.
    t["alias"].append((f"loop-a@{first}", f"loop-b@{first}", first, 1))
    t["alias"].append((f"loop-b@{first}", f"loop-a@{first}", first, 1))
    data.problems[f"loop-a@{first}"] = data.problems[f"loop-b@{first}"] = "alias_loop"
    t["alias"].append((f"broken@{first}", "not an address", first, 1))
    data.problems[f"broken@{first}"] = "invalid_destination"
    # An alias domain: a `domain` row of its own, as Postfixadmin requires.
    t["domain"].append(("pfa-alias.example", "", 0, 0, 0, 0, "virtual", 0, 1))
    t["alias_domain"].append(("pfa-alias.example", first, 1))
    data.alias_domains["pfa-alias.example"] = first
    t["domain"].append(("both.example", "", 0, 0, 0, 0, "virtual", 0, 1))
    t["mailbox"].append(("own@both.example", doveadm_hash("SHA512-CRYPT", True), "", "both.example/own/", 0, "own",
                         "both.example", 1))
    data.mailboxes["own@both.example"] = "SHA512-CRYPT"
    t["alias_domain"].append(("both.example", first, 1))
    data.problems["both.example"] = "domain_and_alias_domain"
    data.domains.append("both.example")
    t["domain"].append(("backup.example", "", 0, 0, 0, 0, "relay:[10.0.0.1]", 1, 1))
    data.domains.append("backup.example")
    # Admins: a superadmin by flag, one by the legacy ALL domain, a domain admin of two domains.
    # Their hashes as pacrypt() stores them: php_crypt (bare $6$), md5crypt (bare $1$), and one
    # the panel's login cannot verify (a truncated crypt string: imported disabled).
    t["admin"] += [("root@pfa.example", doveadm_hash("SHA512-CRYPT", True), 1, 1),
                   ("legacy@pfa.example", "$1$x$y", 0, 1),
                   ("dom@pfa.example", doveadm_hash("MD5-CRYPT", True), 0, 1)]
    data.problems["legacy@pfa.example"] = "admin_password_reset_needed"
    t["domain_admins"] += [("legacy@pfa.example", "ALL", 1), ("dom@pfa.example", data.domains[0], 1),
                           ("dom@pfa.example", data.domains[1], 1)]
    return t, data


COLUMNS = {
    "domain": "domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, active",
    "mailbox": "username, password, name, maildir, quota, local_part, domain, active",
    "alias": "address, goto, domain, active",
    "alias_domain": "alias_domain, target_domain, active",
    "admin": "username, password, superadmin, active",
    "domain_admins": "username, domain, active",
    "quota2": "username, bytes, messages",
    "config": "name, value",
}


def fill(conn, flavour: str, version: str, tables: dict[str, list[tuple]]) -> None:
    cur = conn.cursor()
    for statement in ddl(flavour, version):
        cur.execute(statement)
    for table, values in tables.items():
        if not values:
            continue
        columns = COLUMNS[table]
        placeholders = ", ".join(["%s"] * len(columns.split(",")))
        if flavour == "postgresql":
            bools = {"domain": (7, 8), "mailbox": (7,), "alias": (3,), "alias_domain": (2,), "admin": (2, 3),
                     "domain_admins": (2,)}.get(table, ())
            values = [tuple(bool(v) if i in bools else v for i, v in enumerate(row)) for row in values]
        cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)
    conn.commit()


@contextmanager
def mariadb_source(version: str, tables: dict[str, list[tuple]]):
    """A fresh MariaDB database holding `tables`; yields its URL; dropped afterwards."""
    base = os.environ.get("PFA_MYSQL_URL")
    assert base, "bin/test sets PFA_MYSQL_URL (bin/mariadb-test starts MariaDB)"
    parts = urlsplit(base)
    name = f"pfa_test_{uuid.uuid4().hex[:12]}"
    admin = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                            password=parts.password or "", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                               password=parts.password or "", database=name)
        fill(conn, "mysql", version, tables)
        conn.close()
        yield f"{base}/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@contextmanager
def postgres_source(version: str, tables: dict[str, list[tuple]]):
    """A fresh database on the test PostgreSQL server holding `tables`; yields its URL."""
    from django.db import connection

    settings = connection.settings_dict
    base = (f"postgresql://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}")
    name = f"pfa_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(f"{base}/{name}") as conn:
            fill(conn, "postgresql", version, tables)
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def execute(url: str, sql: str, params: list | tuple = ()) -> None:
    """Change a source made by mariadb_source or postgres_source (`%s` placeholders), as an
    admin would in Postfixadmin between two imports."""
    parts = urlsplit(url)
    if parts.scheme.startswith("mysql"):
        conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                               password=parts.password or "", database=parts.path.lstrip("/"), autocommit=True)
        try:
            conn.cursor().execute(sql, params)
        finally:
            conn.close()
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql, params)
