"""Reading a Postfixadmin database (MySQL/MariaDB through PyMySQL, PostgreSQL through psycopg)
into pfimport.plan's plain rows. Read-only: only SELECTs, in one read-only transaction.

Works from Postfixadmin 2.9x to 4.x: only the columns every version has are read, and the
optional ones (admin.superadmin, mailbox.local_part) are used when present."""
from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from .plan import Source, SourceAdmin, SourceAlias, SourceAliasDomain, SourceDomain, SourceMailbox, SourceQuota

MYSQL_SCHEMES = {"mysql", "mariadb", "mysql+pymysql"}
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


class SourceError(Exception):
    """The source cannot be read: a bad URL, no connection, or not a Postfixadmin schema."""


@contextmanager
def connect(url: str):
    """A DB-API connection to the source database named by `url`
    (mysql://user:pass@host:3306/postfix or postgresql://user:pass@host/postfix)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in MYSQL_SCHEMES:
        import pymysql

        try:
            conn = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                                   user=unquote(parts.username or "root"), password=unquote(parts.password or ""),
                                   database=unquote(parts.path.lstrip("/")), charset="utf8mb4",
                                   cursorclass=pymysql.cursors.Cursor)
        except pymysql.MySQLError as exc:
            raise SourceError(f"cannot connect to the MySQL source: {exc}") from exc
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("START TRANSACTION")
            yield conn, "mysql"
        finally:
            conn.close()
    elif scheme in POSTGRES_SCHEMES:
        import psycopg

        try:
            conn = psycopg.connect(url.replace(f"{parts.scheme}://", "postgresql://", 1))
        except psycopg.Error as exc:
            raise SourceError(f"cannot connect to the PostgreSQL source: {exc}") from exc
        try:
            conn.read_only = True
            yield conn, "postgresql"
        finally:
            conn.close()
    else:
        raise SourceError(f"unsupported database URL scheme {parts.scheme!r}: use mysql:// or postgresql://")


def _columns(cur, flavour: str, table: str) -> set[str]:
    if flavour == "mysql":
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
                    "AND table_name = %s", [table])
    else:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s", [table])
    return {row[0].lower() for row in cur.fetchall()}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def read_source(url: str) -> Source:
    """Every row the import needs from the Postfixadmin database at `url`. Raises SourceError."""
    with connect(url) as (conn, flavour):
        cur = conn.cursor()
        tables = {}
        for table in ("domain", "mailbox", "alias", "alias_domain", "admin", "domain_admins", "quota2", "config"):
            tables[table] = _columns(cur, flavour, table)
        missing = [t for t in ("domain", "mailbox", "alias") if not tables[t]]
        if missing:
            raise SourceError(f"not a Postfixadmin database: no table {', '.join(missing)}")
        version = "unknown"
        if {"name", "value"} <= tables["config"]:
            cur.execute("SELECT value FROM config WHERE name = 'version'")
            row = cur.fetchone()
            version = _text(row[0]) if row else "unknown"
        source = Source(version=version)

        cur.execute("SELECT domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, active "
                    "FROM domain ORDER BY domain")
        source.domains = [SourceDomain(domain=_text(r[0]), description=_text(r[1]), aliases=int(r[2] or 0),
                                       mailboxes=int(r[3] or 0), maxquota=int(r[4] or 0), quota=int(r[5] or 0),
                                       transport=_text(r[6]) or None, backupmx=bool(r[7]), active=bool(r[8]))
                          for r in cur.fetchall()]

        local_part = "local_part" if "local_part" in tables["mailbox"] else "''"
        cur.execute(f"SELECT username, password, name, maildir, quota, {local_part}, domain, active "
                    "FROM mailbox ORDER BY username")
        source.mailboxes = [SourceMailbox(username=_text(r[0]), password=_text(r[1]), name=_text(r[2]),
                                          maildir=_text(r[3]), quota=int(r[4] or 0), local_part=_text(r[5]),
                                          domain=_text(r[6]), active=bool(r[7])) for r in cur.fetchall()]

        cur.execute("SELECT address, goto, domain, active FROM alias ORDER BY address")
        source.aliases = [SourceAlias(address=_text(r[0]), goto=_text(r[1]), domain=_text(r[2]), active=bool(r[3]))
                          for r in cur.fetchall()]

        if tables["alias_domain"]:
            cur.execute("SELECT alias_domain, target_domain, active FROM alias_domain ORDER BY alias_domain")
            source.alias_domains = [SourceAliasDomain(alias_domain=_text(r[0]), target_domain=_text(r[1]),
                                                      active=bool(r[2])) for r in cur.fetchall()]

        if tables["admin"]:
            superadmin = "superadmin" if "superadmin" in tables["admin"] else "0"
            cur.execute(f"SELECT username, {superadmin}, active, password FROM admin ORDER BY username")
            admins = {_text(r[0]): SourceAdmin(username=_text(r[0]), superadmin=bool(r[1]), active=bool(r[2]),
                                               password=_text(r[3])) for r in cur.fetchall()}
            if tables["domain_admins"]:
                cur.execute("SELECT username, domain FROM domain_admins ORDER BY username, domain")
                for username, domain in cur.fetchall():
                    if _text(username) in admins:
                        admins[_text(username)].domains.append(_text(domain))
            source.admins = list(admins.values())

        if tables["quota2"]:
            cur.execute("SELECT username, bytes, messages FROM quota2")
            source.quota2 = [SourceQuota(username=_text(r[0]), bytes=int(r[1] or 0), messages=int(r[2] or 0))
                             for r in cur.fetchall()]
        return source
