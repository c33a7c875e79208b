"""Create (idempotently) the least-privilege roles Postfix and Dovecot connect with."""
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from domains.mailstack import QUOTA_READ_TABLES, QUOTA_TABLES, READER_TABLES, role_password


def scram_verifier(cursor, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier ("SCRAM-SHA-256$4096:salt$StoredKey:ServerKey", RFC 7677) of
    `password` for `role`, made by libpq on this side (PQencryptPasswordConn, what psql's
    \\password uses), so that the password itself never reaches the server."""
    pgconn = cursor.connection.pgconn
    return pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def ensure_role(cursor, role: str, password: str, *, select: list[str], write: list[str]) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    # SECURITY: the server gets a SCRAM-SHA-256 verifier, never the password: a plain `PASSWORD
    # 'secret'` lands in PostgreSQL's statement log (log_statement = ddl) and pg_stat_statements.
    cursor.execute(sql.SQL(verb + " ROLE {} LOGIN NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}")
                   .format(sql.Identifier(role), sql.Literal(scram_verifier(cursor, role, password)))
                   .as_string(cursor.connection))
    ident = sql.Identifier(role)
    db = sql.Identifier(connection.settings_dict["NAME"])
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, ident),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident),
        # Start from nothing, so re-running the command also takes back stray privileges.
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(ident),
    ]
    for table in select:
        statements.append(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(table), ident))
    for table in write:
        # Dovecot upserts (INSERT ... ON CONFLICT DO UPDATE): 2.3's quota dict, 2.4's quota_clone;
        # 2.3 may delete on recalc.
        statements.append(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}")
                          .format(sql.Identifier(table), ident))
    for statement in statements:
        cursor.execute(statement.as_string(cursor.connection))


class Command(BaseCommand):
    help = ("Create or update the database roles for Postfix/Dovecot auth (SELECT on the mail tables) "
            "and for Dovecot's dicts (writes quota_usage and last_login; reads vacation_sieve).")

    def add_arguments(self, parser):
        parser.add_argument("--reader-role", default="mailreader")
        parser.add_argument("--reader-password", help="default: $MAILADMIN_READER_PASSWORD (keeps it out of ps)")
        parser.add_argument("--quota-role", default="mailquota")
        parser.add_argument("--quota-password", help="default: $MAILADMIN_QUOTA_PASSWORD (keeps it out of ps)")

    def handle(self, *args, reader_role, reader_password, quota_role, quota_password, **options):
        if reader_role == quota_role:
            raise CommandError("the reader and quota roles must differ")
        try:
            # The same rule as mailconfig's: a password the generated files cannot carry is refused
            # here, before PostgreSQL has it.
            reader_password = role_password(reader_password, "reader")
            quota_password = role_password(quota_password, "quota")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        own_role = connection.settings_dict["USER"]
        if own_role in {reader_role, quota_role}:
            raise CommandError(f"{own_role} is the panel's own role (it owns the schema); choose other names")
        with transaction.atomic(), connection.cursor() as cursor:
            ensure_role(cursor, reader_role, reader_password, select=READER_TABLES, write=[])
            ensure_role(cursor, quota_role, quota_password, select=QUOTA_READ_TABLES, write=QUOTA_TABLES)
        self.stdout.write(f"Roles ready: {reader_role} (SELECT {', '.join(READER_TABLES)}), "
                          f"{quota_role} (read/write {', '.join(QUOTA_TABLES)}; SELECT {', '.join(QUOTA_READ_TABLES)}).")
