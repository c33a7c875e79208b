"""Check, piece by piece, that a mail host's Postfix and Dovecot serve the panel's tables.

`manage.py mailcheck` runs this after the setup in docs/mailstack.md. It first checks that the
panel's database answers and that the reader role named in the map files may read every table
the queries use (PostgreSQL's has_table_privilege). It then creates a probe domain
(a mailbox, an alias, a catch-all, an alias domain, and a backup-MX domain with a transport), asks
each Postfix map for it through the running proxymap (`postmap -q KEY proxy:pgsql:FILE`), checks
that smtpd_recipient_restrictions asks the panel's recipient_access map before any permit, that the
configuration Dovecot loads has the generated include in effect and parses without warnings
(`doveconf -n`),
authenticates the probe mailbox (`doveadm auth test`), saves one message into it (`doveadm save`)
and waits for Dovecot to write its quota_usage row. It also gives the probe an app password and a
send-as grant (mailaccess), and checks that Dovecot's app-password passdb accepts the one and
sender_login_maps answers the other. The probe rows are removed at the end, and the probe's mail
directory with them. It also reads the probe's vacation script and writes a last login
through Dovecot's own dict clients (`doveadm dict`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connection, transaction

from domains import services
from domains.mailstack import (DISABLED_REPLY, DOVECOT24_PASSWORD_QUERY, MAIN_CF_SNIPPET_PARAMETERS, POSTFIX_MAPS,
                               READER_TABLES, recipient_access_restriction)
from domains.models import Domain, Mailbox, QuotaUsage
from mailaccess import services as access_services


@dataclass
class CheckResult:
    piece: str
    ok: bool
    detail: str = ""
    fix: str = ""


@dataclass
class MailHost:
    """Where the mail host's configuration lives. `prefix` runs its commands (e.g. ["chroot", TREE])."""
    config_dir: Path                      # what `mailconfig --out` wrote
    postfix_dir: Path = Path("/etc/postfix")
    dovecot_conf: Path = Path("/etc/dovecot/dovecot.conf")
    prefix: list[str] = field(default_factory=list)
    quota_timeout: float = 15.0

    def local(self, path: Path) -> Path:
        """`path` of the mail host as seen from here (inside the chroot tree when there is one)."""
        return Path(self.prefix[1]) / str(path).lstrip("/") if self.prefix[:1] == ["chroot"] else path

    def run(self, *args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return subprocess.CompletedProcess(args, 127, "", str(exc))


def _probe_world() -> dict:
    tag = uuid.uuid4().hex[:10]
    # Never starting with "-": doveadm would read it as an option (token_urlsafe may start so).
    password = "probe-" + secrets.token_urlsafe(18)
    with transaction.atomic():
        domain = services.domain_create(name=f"mailcheck-{tag}.invalid", acting_user=None)
        mailbox = services.mailbox_create(domain=domain, local_part="probe", password=password, acting_user=None)
        services.alias_create(domain=domain, local_part="probe-alias", destinations=[mailbox.address],
                              acting_user=None)
        services.alias_create(domain=domain, local_part="", destinations=[mailbox.address], acting_user=None)
        # An inactive mailbox: refused at RCPT (recipient_access) and kept from the catch-all.
        services.mailbox_create(domain=domain, local_part="probe-off", password=password, active=False,
                                acting_user=None)
        alias_domain = services.alias_domain_create(name=f"mailcheck-{tag}-alias.invalid", target=domain,
                                                    acting_user=None)
        relay = services.domain_create(name=f"mailcheck-{tag}-relay.invalid", backup_mx=True,
                                       transport="relay:[mailcheck.invalid]", acting_user=None)
        app_password = access_services.app_password_create(mailbox=mailbox, name="mailcheck", acting_user=None)
        grant = access_services.sender_grant_create(mailbox=mailbox, address=f"probe-grant@{domain.name}",
                                                    acting_user=None)
    return {"domain": domain, "mailbox": mailbox, "password": password, "alias_domain": alias_domain.name,
            "relay": relay, "app_password": app_password.secret, "granted": grant.address}


def _remove_probe(world: dict) -> None:
    Domain.objects.filter(pk__in=[world["domain"].pk, world["relay"].pk]).delete()


def _expected_answers(world: dict) -> dict[str, tuple[str, str]]:
    """map name -> (probe key, expected answer)."""
    domain, mailbox, alias_domain = world["domain"].name, world["mailbox"], world["alias_domain"]
    relay = world["relay"]
    return {
        "virtual_mailbox_domains": (domain, domain),
        "virtual_alias_domains": (alias_domain, alias_domain),
        "relay_domains": (relay.name, relay.name),
        "virtual_mailbox_maps": (mailbox.address, mailbox.maildir),
        "virtual_alias_maps": (f"probe-alias@{domain}", mailbox.address),
        "virtual_mailbox_self_maps": (mailbox.address, mailbox.address),
        "alias_domain_alias_maps": (f"probe-alias@{alias_domain}", mailbox.address),
        "alias_domain_mailbox_maps": (f"probe@{alias_domain}", mailbox.address),
        "alias_domain_catchall_maps": (f"@{alias_domain}", mailbox.address),
        "transport_maps": (relay.name, relay.transport),
        "sender_login_maps": (mailbox.address, mailbox.address),
        "disabled_recipient_maps": (f"probe-off@{domain}", f"probe-off@{domain}"),
        "recipient_access": (f"probe-off@{domain}", DISABLED_REPLY),
    }


def check_postfix_maps(host: MailHost, world: dict) -> list[CheckResult]:
    results = []
    for pmap in POSTFIX_MAPS:
        key, expected = _expected_answers(world)[pmap.name]
        table = f"proxy:pgsql:{host.config_dir / 'postfix' / (pmap.name + '.cf')}"
        result = host.run("postmap", "-c", str(host.postfix_dir), "-q", key, table)
        answer = result.stdout.strip()
        piece = f"postfix map {pmap.name}"
        if result.returncode == 0 and answer == expected:
            results.append(CheckResult(piece, True))
            continue
        error = (result.stderr.strip().splitlines() or [""])[-1]
        if "not configured for table" in result.stderr:
            fix = (f"append {host.config_dir}/postfix/main.cf.snippet to {host.postfix_dir}/main.cf and run "
                   f"`postfix reload`; if main.cf sets proxy_read_maps, add ${pmap.setting} to it")
        elif result.stderr.strip() or result.returncode not in (0, 1):
            # proxymap only says "query error: Application error"; Postfix's log has the reason.
            fix = ("check the reader role's password and host in the map file against `manage.py dbroles` "
                   "(re-run `manage.py mailconfig` with the same --reader-password), that Postfix is running, "
                   "and the Postfix log for the database's reason")
        else:
            fix = "re-run `manage.py mailconfig` so the map's query matches this panel version"
        results.append(CheckResult(piece, False, f"{key!r} gave {answer!r} (expected {expected!r}) {error}".strip(),
                                   fix))
    return results


def check_recipient_restrictions(host: MailHost) -> CheckResult:
    """smtpd_recipient_restrictions as Postfix reads it (`postconf -x -h`, after every definition
    and macro) must list the panel's check_recipient_access before any permit_* restriction,
    which would accept the recipient first; the admin's own restrictions may follow."""
    piece = "postfix recipient restrictions"
    ours = recipient_access_restriction(host.config_dir / "postfix")
    result = host.run("postconf", "-c", str(host.postfix_dir), "-x", "-h", "smtpd_recipient_restrictions")
    if result.returncode:
        return CheckResult(piece, False, result.stderr.strip(), "give --postfix-config the directory of main.cf")
    tokens = [t for t in re.split(r"[\s,]+", result.stdout.strip()) if t]
    positions = [i for i in range(len(tokens) - 1) if tokens[i:i + 2] == ours.split()]
    permits = [t for t in tokens[:positions[0] if positions else len(tokens)] if t.startswith("permit")]
    postconf = "postconf" if host.postfix_dir == Path("/etc/postfix") else f"postconf -c {host.postfix_dir}"
    own = result.stdout.strip()
    if not positions:
        return CheckResult(piece, False, f"smtpd_recipient_restrictions does not list {ours}: inactive "
                           "mailboxes and aliases are accepted, then bounced",
                           f'{postconf} -e "smtpd_recipient_restrictions = {ours} '
                           f'$({postconf} -h smtpd_recipient_restrictions)" && postfix reload'
                           + (f" (your own list stays after it: {own})" if own else ""))
    if permits:
        return CheckResult(piece, False, f"{ours} comes after {permits[0]}, which accepts those recipients "
                           "before it is asked", f"move it to the front of smtpd_recipient_restrictions "
                           f"(`{postconf} -h smtpd_recipient_restrictions` shows the list), then postfix reload")
    return CheckResult(piece, True)


def check_main_cf_overrides(host: MailHost) -> CheckResult:
    """No parameter that main.cf.snippet sets is also set earlier in main.cf. Postfix keeps the
    last definition of a parameter (postconf(5)), so an admin's own `transport_maps =
    hash:/etc/postfix/transport` or `virtual_alias_maps = ...` above the appended snippet stops
    applying, silently on Postfix 3.7 (3.10 warns "overriding earlier entry")."""
    piece = "postfix main.cf"
    main_cf = host.postfix_dir / "main.cf"
    try:
        lines = host.local(main_cf).read_text().splitlines()
    except OSError as exc:
        return CheckResult(piece, False, f"cannot read {main_cf}: {exc.strerror}",
                           "give --postfix-config the directory of main.cf")
    overridden = []
    for name in MAIN_CF_SNIPPET_PARAMETERS:
        # A definition starts at the beginning of a line (continuation lines start with a blank).
        found = [(number, line) for number, line in enumerate(lines, 1) if re.match(rf"{name}\s*=", line)]
        overridden += [f"{name} at line {number} ({line.split('=', 1)[1].strip() or 'empty'})"
                       for number, line in found[:-1]]
    if overridden:
        return CheckResult(piece, False, f"{main_cf} sets these earlier than main.cf.snippet, and only the last "
                           f"definition counts: {'; '.join(overridden)}",
                           "merge each earlier value into the snippet's line (your tables and ours, comma-separated), "
                           "delete the earlier line, then `postfix reload` (docs/mailstack.md, step 3)")
    return CheckResult(piece, True)


def _include_in_effect(host: MailHost, config: str) -> bool:
    """Whether `doveconf -n` shows what only the generated include sets: on 2.3 the SQL passdb
    reading dovecot-sql.conf.ext, on 2.4 the password query itself."""
    dovecot_dir = host.config_dir / "dovecot"
    if re.match(r"# 2\.3\.", config):
        return f"args = {dovecot_dir / 'dovecot-sql.conf.ext'}" in config
    return DOVECOT24_PASSWORD_QUERY in config


def check_dovecot_include(host: MailHost) -> CheckResult:
    """The generated include is in effect in the configuration Dovecot loads (`doveconf -n`, which
    follows every !include: dovecot.conf, local.conf, conf.d), and it parses with no warning."""
    snippet = host.config_dir / "dovecot" / "conf.snippet"
    result = host.run("doveconf", "-c", str(host.dovecot_conf), "-n")
    warnings = [line for line in result.stderr.splitlines() if "arning" in line or "atal" in line or "rror" in line]
    if result.returncode or warnings:
        return CheckResult("dovecot include", False, "; ".join(warnings) or result.stderr.strip(),
                           "re-run `manage.py mailconfig` with --dovecot-version matching `dovecot --version`; "
                           "give --dovecot-config the path of dovecot.conf")
    if not _include_in_effect(host, result.stdout):
        return CheckResult("dovecot include", False, f"the configuration {host.dovecot_conf} loads does not include "
                           f"{snippet}", f"add the line `!include {snippet}` at the end of {host.dovecot_conf} "
                           "(or of local.conf beside it, which Debian's dovecot.conf includes last), then "
                           "`doveadm reload`")
    return CheckResult("dovecot include", True)


def check_dovecot_auth(host: MailHost, world: dict) -> CheckResult:
    address = world["mailbox"].address
    result = host.run("doveadm", "-c", str(host.dovecot_conf), "auth", "test", address, world["password"])
    if result.returncode == 0:
        return CheckResult("dovecot auth", True)
    return CheckResult("dovecot auth", False, f"doveadm auth test {address}: {result.stdout.strip()} "
                       f"{result.stderr.strip()}".strip(),
                       "check that Dovecot is running, and the reader role's password in the Dovecot include "
                       "(re-run `manage.py mailconfig` with the password given to `manage.py dbroles`)")


_SCHEMA_FIX = ("re-run `manage.py dbroles` (the reader role needs SELECT on app_password and sender_grant) and "
               "`manage.py mailconfig`, then reload Postfix and Dovecot")


def check_sender_grant(host: MailHost, world: dict) -> CheckResult:
    """sender_login_maps answers a send-as grant (mailaccess.SenderGrant) with its mailbox."""
    table = f"proxy:pgsql:{host.config_dir / 'postfix' / 'sender_login_maps.cf'}"
    result = host.run("postmap", "-c", str(host.postfix_dir), "-q", world["granted"], table)
    expected = world["mailbox"].address
    if result.returncode == 0 and result.stdout.strip() == expected:
        return CheckResult("postfix send-as grant", True)
    return CheckResult("postfix send-as grant", False,
                       f"{world['granted']!r} gave {result.stdout.strip()!r} (expected {expected!r}) "
                       f"{result.stderr.strip()}".strip(), _SCHEMA_FIX)


def check_dovecot_app_password(host: MailHost, world: dict) -> CheckResult:
    """Dovecot's second passdb accepts the probe's app password."""
    address = world["mailbox"].address
    # As an IMAP login: app passwords open IMAP, POP3 and SMTP only, not doveadm's own service.
    result = host.run("doveadm", "-c", str(host.dovecot_conf), "auth", "test", "-x", "service=imap", address,
                      world["app_password"])
    if result.returncode == 0:
        return CheckResult("dovecot app password", True)
    return CheckResult("dovecot app password", False, f"doveadm auth test -x service=imap {address} with an app password: "
                       f"{result.stdout.strip()} {result.stderr.strip()}".strip(), _SCHEMA_FIX)


def check_quota_usage(host: MailHost, world: dict, sleep: Callable[[float], None] = time.sleep) -> CheckResult:
    mailbox = world["mailbox"]
    message = f"From: mailcheck@invalid\nSubject: mailcheck probe\nMessage-ID: <{uuid.uuid4().hex}@mailcheck>\n\nprobe\n"
    conf = ["doveadm", "-c", str(host.dovecot_conf)]
    try:
        saved = subprocess.run([*host.prefix, *conf, "save", "-u", mailbox.address], input=message,
                               capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        saved = subprocess.CompletedProcess([], 127, "", str(exc))
    if saved.returncode:
        return CheckResult("quota usage", False, f"doveadm save: {saved.stderr.strip()}",
                           "check the mail root's owner (the vmail uid/gid given to mailconfig)")
    deadline = time.monotonic() + host.quota_timeout
    while time.monotonic() < deadline:
        usage = QuotaUsage.objects.filter(mailbox=mailbox).values_list("messages", flat=True).first()
        if usage:
            return CheckResult("quota usage", True)
        sleep(0.2)
    return CheckResult("quota usage", False, "no quota_usage row written for the probe mailbox",
                       "check the quota role's password in the Dovecot include (`manage.py dbroles` "
                       "--quota-password) and that Dovecot's dict service is running")


def _dovecot_series(host: MailHost) -> str:
    result = host.run("dovecot", "--version")
    return "2.4" if result.stdout.strip().startswith("2.4") else "2.3"


def check_vacation_and_last_login(host: MailHost, world: dict) -> list[CheckResult]:
    """Through Dovecot's own dict clients (`doveadm dict`), as Sieve and last_login use them:
    the probe mailbox's vacation script is found (its data ID is the script's MD5), and a
    last-login write reaches mailbox.last_login_at. `doveadm sieve` cannot serve: Pigeonhole's
    dict storage is read-only and doveadm sieve refuses it."""
    from vacation import services as vacation_services   # vacation depends on domains, not the reverse

    mailbox = world["mailbox"]
    vacation = vacation_services.vacation_set(mailbox=mailbox, active=True, subject="mailcheck", body="probe",
                                              acting_user=None)
    # The dict a feature uses is named differently on each series (measured): a dict URI on 2.3, the
    # setting filter that holds its `dict proxy` block on 2.4.
    sieve_dict, login_dict = (("sieve_script/personal", "last_login") if _dovecot_series(host) == "2.4"
                              else ("proxy::sieve", "proxy::lastlogin"))
    conf = ["doveadm", "-c", str(host.dovecot_conf), "dict"]
    results = []
    got = host.run(*conf, "get", "-u", mailbox.address, sieve_dict, "priv/sieve/name/active")
    expected = hashlib.md5(vacation.script.encode()).hexdigest()
    if got.returncode == 0 and got.stdout.strip() == expected:
        results.append(CheckResult("vacation sieve dict", True))
    else:
        results.append(CheckResult("vacation sieve dict", False,
                                   f"doveadm dict get {sieve_dict}: {got.stdout.strip()} {got.stderr.strip()}".strip(),
                                   "install dovecot-sieve, re-run `manage.py dbroles` (the quota role reads "
                                   "vacation_sieve) and `manage.py mailconfig`, then `doveadm reload`"))
    stamp = int(time.time())
    wrote = host.run(*conf, "set", "-u", mailbox.address, login_dict, f"shared/last-login/{mailbox.address}", str(stamp))
    at = Mailbox.objects.filter(pk=mailbox.pk).values_list("last_login_at", flat=True).first()
    if wrote.returncode == 0 and at == dt.datetime.fromtimestamp(stamp, tz=dt.timezone.utc):
        results.append(CheckResult("last login dict", True))
    else:
        results.append(CheckResult("last login dict", False,
                                   f"doveadm dict set {login_dict}: {wrote.stderr.strip()} (last_login_at {at})",
                                   "re-run `manage.py dbroles` (the quota role writes last_login) and "
                                   "`manage.py mailconfig`, then `doveadm reload`"))
    return results


def _remove_probe_mail(host: MailHost, world: dict) -> None:
    result = host.run("doveadm", "-c", str(host.dovecot_conf), "user", "-f", "home", world["mailbox"].address)
    home = result.stdout.strip()
    if result.returncode == 0 and home.startswith("/") and home.rstrip("/").endswith(world["mailbox"].maildir.rstrip("/")):
        home_dir = host.local(Path(home))
        shutil.rmtree(home_dir, ignore_errors=True)
        # The probe domain's own directory, if nothing else is in it.
        domain_dir = home_dir.parent
        if domain_dir.name == world["domain"].name and domain_dir.is_dir() and not any(domain_dir.iterdir()):
            domain_dir.rmdir()


def check_panel_database() -> CheckResult:
    """The panel's own database answers (mailcheck writes its probe there). A stopped PostgreSQL
    fails here with one line rather than a traceback; the mail servers then fail as well."""
    try:
        connection.ensure_connection()
        return CheckResult("panel database", True)
    except DatabaseError as exc:
        db = connection.settings_dict
        reason = (str(exc).strip().splitlines() or [""])[0]
        return CheckResult("panel database", False,
                           f"cannot connect to PostgreSQL at {db.get('HOST')}:{db.get('PORT')}: {reason}",
                           "start PostgreSQL (`systemctl start postgresql`), or correct DATABASE_URL; Postfix and "
                           "Dovecot read the same database, so no mail is accepted or delivered until it answers")


def _reader_role(host: MailHost) -> str | None:
    """The role the Postfix maps log in as (`user =` of a generated map file, pgsql_table(5))."""
    try:
        text = host.local(host.config_dir / "postfix" / f"{POSTFIX_MAPS[0].name}.cf").read_text()
    except OSError:
        return None
    match = re.search(r"^user\s*=\s*(\S.*?)\s*$", text, re.M)
    return match.group(1) if match else None


def check_reader_role(host: MailHost) -> CheckResult | None:
    """The reader role named in the map files exists and may SELECT every table the queries read
    (READER_TABLES, what `manage.py dbroles` grants). Without this, Postfix only answers
    "query error: Application error" and Dovecot "auth failed", which read like a wrong password.
    None when the map files cannot be read (the map checks then say so)."""
    role = _reader_role(host)
    if role is None:
        return None
    piece = f"database role {role}"
    fix = (f"re-run `manage.py dbroles --reader-role {role} --reader-password ...` with the password in the "
           "map files (it grants SELECT on every table the queries read), then `postfix reload`")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return CheckResult(piece, False, f"no such role in the panel's database (user = in "
                               f"{host.config_dir}/postfix/*.cf)", fix)
        cursor.execute("SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NULL "
                       "OR NOT has_table_privilege(%s, t, 'SELECT') ORDER BY t", [READER_TABLES, role])
        missing = [row[0] for row in cursor.fetchall()]
    if missing:
        return CheckResult(piece, False, f"the role Postfix and Dovecot log in as (user = in "
                           f"{host.config_dir}/postfix/*.cf) lacks SELECT on {', '.join(missing)}", fix)
    return CheckResult(piece, True)


def run_checks(host: MailHost) -> list[CheckResult]:
    """Every check, in order; the probe rows and mail are removed whatever happens."""
    include = check_dovecot_include(host)
    database = check_panel_database()
    if not database.ok:
        return [database, include]
    role = check_reader_role(host)
    world = _probe_world()
    try:
        results = ([database] + ([role] if role else []) + check_postfix_maps(host, world)
                   + [check_main_cf_overrides(host), check_recipient_restrictions(host), include])
        results.append(check_sender_grant(host, world))
        auth = check_dovecot_auth(host, world)
        results.append(auth)
        results.append(check_dovecot_app_password(host, world) if auth.ok else
                       CheckResult("dovecot app password", False, "not tried: auth failed", auth.fix))
        if auth.ok:
            results.append(check_quota_usage(host, world))
        else:
            results.append(CheckResult("quota usage", False, "not tried: auth failed", auth.fix))
        results += check_vacation_and_last_login(host, world)
    finally:
        if include.ok:
            _remove_probe_mail(host, world)
        _remove_probe(world)
    return results
