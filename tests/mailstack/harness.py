"""A private Postfix + Dovecot pair on loopback ports, reading the test database, on two legs.

Use the session fixture `mail_stack` in tests marked `@pytest.mark.django_db(transaction=True)`:
the servers read the database through their own connections, so they only see committed rows.

    def test_delivery(mail_stack):
        mailbox = services.mailbox_create(...)
        mail_stack.send("john@example.org", subject="hi")
        assert mail_stack.wait_for_mail("john@example.org", count=1)

Every test using it runs twice: on `debian12` (this machine's Postfix 3.7 and Dovecot 2.3) and on
`debian13` (Postfix 3.10 and Dovecot 2.4 in a debootstrapped trixie tree, run with chroot; see
debian13.py). Each leg starts from the configuration files exactly as its Debian packages install
them, then does what docs/mailstack.md tells an admin to do: append main.cf.snippet to main.cf,
`!include` the Dovecot conf.snippet at the end of dovecot.conf, and hand Postfix's virtual
deliveries to Dovecot's LMTP listener. On top of that, only what a test instance needs: its own
ports on loopback, paths under a private root, and nothing leaving this machine
(`default_transport = error`, no DNS). The tests prove the shipped files against stock configs.
"""
from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import smtplib
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

# Passwords with every character the generated files must escape: Dovecot 2.4's %{ and %%, quotes,
# a backslash, main.cf's $ and #, a blank inside (mailconfig refuses one at either end).
READER_PASSWORD = "reader-%{user} %%u \"q\" 'a\\b' $f #h-" + uuid.uuid4().hex[:12]
QUOTA_PASSWORD = "quota-%{user} %%u \"q\" 'a\\b' $f #h-" + uuid.uuid4().hex[:12]
VMAIL = "vmail"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_vmail_user() -> tuple[int, int]:
    """The system user that owns the mail store (created like a real server would have it)."""
    try:
        entry = pwd.getpwnam(VMAIL)
    except KeyError:
        try:
            grp.getgrnam(VMAIL)
        except KeyError:
            subprocess.run(["groupadd", "--system", VMAIL], check=True)
        subprocess.run(["useradd", "--system", "--gid", VMAIL, "--home-dir", "/nonexistent",
                        "--no-create-home", "--shell", "/usr/sbin/nologin", VMAIL], check=True)
        entry = pwd.getpwnam(VMAIL)
    return entry.pw_uid, entry.pw_gid


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_for_path(path: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear after {timeout}s")
        time.sleep(0.05)


@dataclass
class MailStack:
    root: Path
    config_dir: Path          # what `mailconfig --out` wrote
    postfix_dir: Path
    dovecot_conf: Path
    mail_root: Path
    smtp_port: int
    imap_port: int
    submission_port: int
    uid: int
    gid: int
    db_name: str
    leg: Leg
    mailconfig_options: dict = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    # --- Postfix ---------------------------------------------------------------------
    def postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(self.leg.cmd("postfix", "-c", str(self.postfix_dir), *args), capture_output=True,
                              text=True, timeout=60, check=check)

    def postmap(self, map_name: str, key: str) -> str | None:
        """Look `key` up through the running Postfix's proxymap, as smtpd would."""
        table = f"proxy:pgsql:{self.config_dir / 'postfix' / (map_name + '.cf')}"
        result = subprocess.run(self.leg.cmd("postmap", "-c", str(self.postfix_dir), "-q", key, table),
                                capture_output=True, text=True, timeout=30)
        if result.returncode == 1:
            return None
        if result.returncode != 0:
            raise RuntimeError(f"postmap failed: {result.stderr}")
        return result.stdout.strip()

    def send(self, to: str | list[str], *, sender: str = "sender@outside.example", subject: str = "test",
             body: str = "hello", size: int = 0) -> None:
        """Submit a message over SMTP; raises smtplib errors when Postfix refuses it."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = to if isinstance(to, str) else ", ".join(to)
        message["Subject"] = subject
        message["Message-ID"] = f"<{uuid.uuid4().hex}@test.example>"
        message.set_content(body + ("\n" + "x" * 76) * (size // 77 + 1 if size else 0))
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30, source_address=(CLIENT_ADDRESS, 0)) as smtp:
            smtp.send_message(message, from_addr=sender, to_addrs=[to] if isinstance(to, str) else to)

    def submit(self, login: str, password: str, *, sender: str, to: str, subject: str = "submitted") -> None:
        """Send a message through the submission port as a mail program does: STARTTLS, SASL
        login through Dovecot, then MAIL FROM `sender`. Raises smtplib.SMTPAuthenticationError
        for a refused login, smtplib.SMTPSenderRefused or SMTPRecipientsRefused for
        reject_sender_login_mismatch and other refusals."""
        import ssl

        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, to, subject
        message["Message-ID"] = f"<{uuid.uuid4().hex}@test.example>"
        message.set_content("sent by a mail program")
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE   # the test instance's self-signed certificate
        with smtplib.SMTP("127.0.0.1", self.submission_port, timeout=30, source_address=(CLIENT_ADDRESS, 0)) as smtp:
            smtp.starttls(context=context)
            smtp.login(login, password)
            smtp.send_message(message, from_addr=sender, to_addrs=[to])

    def regenerate_config(self, **overrides) -> None:
        """Re-run `manage.py mailconfig` into config_dir (with option overrides, e.g. a wrong
        password) and reload both servers, as an admin would after changing the files."""
        write_generated_config(self.leg, self.config_dir, {**self.mailconfig_options, **overrides})
        self.postfix("reload", check=False)
        self.doveadm("reload")

    def log(self, name: str = "postfix") -> str:
        path = self.logs[name]
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, needle: str, name: str = "postfix", timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log(name)
            if needle in text:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} not in the {name} log after {timeout}s:\n{self.log(name)[-3000:]}")

    # --- the mail store --------------------------------------------------------------
    def maildir(self, address: str) -> Path:
        from domains.models import Mailbox

        return self.mail_root / Mailbox.objects.get(address=address).maildir / "Maildir"

    def messages(self, address: str) -> list[Path]:
        base = self.maildir(address)
        return sorted(p for sub in ("new", "cur") if (base / sub).is_dir() for p in (base / sub).iterdir())

    def wait_for_mail(self, address: str, count: int = 1, timeout: float = 20.0) -> list[Path]:
        """Wait until `address`'s Maildir holds at least `count` messages; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages(address)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{address} has {len(self.messages(address))} messages, expected {count}; "
                             f"postfix log tail:\n{self.log()[-3000:]}")

    # --- Dovecot ---------------------------------------------------------------------
    def doveadm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.leg.cmd("doveadm", "-c", str(self.dovecot_conf), *args), capture_output=True,
                              text=True, timeout=60)

    def auth_test(self, user: str, password: str, service: str | None = None) -> bool:
        """`doveadm auth test` (as `service`, e.g. imap or smtp, when given: Dovecot's %s)."""
        extra = ["-x", f"service={service}"] if service else []
        return self.doveadm("auth", "test", *extra, user, password).returncode == 0

    def imap_login(self, user: str, password: str) -> bool:
        with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=15) as imap:
            try:
                imap.login(user, password)
            except imaplib.IMAP4.error:
                return False
            imap.logout()
            return True


# --- what each leg adds to the stock files: test ports, private paths, no outbound mail ---------
# Set with `postconf -e` after the documented steps (so no parameter appears twice); it never sets a
# parameter the snippet sets (checked below).
TEST_MAIN_CF = {
    "queue_directory": "{root}/postfix-queue",
    "data_directory": "{root}/postfix-data",
    "maillog_file": "{root}/postfix.log",
    "maillog_file_prefixes": "{root}",
    "inet_interfaces": "127.0.0.1",
    "inet_protocols": "ipv4",
    # Nothing leaves this machine, and a per-domain transport_maps entry (relay:[mx1...]) is held
    # in the queue rather than tried.
    "default_transport": "error:outbound mail is disabled in tests",
    "relay_transport": "error:outbound mail is disabled in tests",
    "defer_transports": "smtp relay",
    "smtp_dns_support_level": "disabled",
    "lmtp_dns_support_level": "disabled",
    "queue_run_delay": "1s",
    "minimal_backoff_time": "1s",
    "maximal_backoff_time": "2s",
}
# docs/mailstack.md, "Setting it up", step 4, verbatim.
DOCUMENTED_MAIN_CF = {"virtual_transport": "lmtp:unix:private/dovecot-lmtp"}
# An admin's own restriction list, set before the documented steps, which must keep it in effect:
# on Debian 13 the test client is inside mynetworks, so permit_mynetworks would accept first.
ADMIN_BLOCKED = "blocked@example.org"
ADMIN_RECIPIENT_RESTRICTIONS = (f"check_recipient_access inline:{{ {{ {ADMIN_BLOCKED}=REJECT Blocked by local policy }} }}, "
                                "permit_mynetworks, reject_unauth_destination")
# docs/mailstack.md step 3 and docs/deploy.md: Debian's passdb pam / userdb passwd off.
DOCUMENTED_AUTH_SYSTEM_STEP = "sed -i 's/^!include auth-system.conf.ext/#&/' /etc/dovecot/conf.d/10-auth.conf"

TEST_DOVECOT_CONF = """
# --- test instance only: private paths, loopback ports ---
instance_name = mailadmin-test-{tag}
base_dir = {root}/dovecot-run
state_dir = {root}/dovecot-state
log_path = {root}/dovecot.log
listen = 127.0.0.1
# Sieve's vacation replies go to this instance's Postfix (on a real host, Debian's default
# sendmail_path reaches the system Postfix).
submission_host = 127.0.0.1:{smtp_port}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# docs/mailstack.md, step 6 (SMTP AUTH for Postfix), with this instance's queue directory
service auth {{
  unix_listener {root}/postfix-queue/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
# docs/mailstack.md, step 4, with this instance's queue directory for /var/spool/postfix
service lmtp {{
  unix_listener {root}/postfix-queue/private/dovecot-lmtp {{
    mode = 0600
    user = postfix
    group = postfix
  }}
}}
"""

# docs/mailstack.md, step 6: the submission service's options (postconf -P), verbatim.
DOCUMENTED_SUBMISSION = {
    "syslog_name": "postfix/submission",
    "smtpd_tls_security_level": "encrypt",
    "smtpd_tls_auth_only": "yes",
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_sasl_type": "dovecot",
    "smtpd_sasl_path": "private/auth",
    "smtpd_client_restrictions": "permit_sasl_authenticated,reject",
    "smtpd_sender_restrictions": "reject_sender_login_mismatch",
    "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
}


def _self_signed_pair(root: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key under `root`, for the test instance's STARTTLS (an admin
    gives their own certificate, docs/mailstack.md step 6)."""
    tls = root / "smtp-tls"
    tls.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=mx.test.example", "-keyout", str(tls / "smtp.key"), "-out", str(tls / "smtp.pem")],
                   check=True, capture_output=True, timeout=60)
    return tls / "smtp.pem", tls / "smtp.key"


# The test client plays a sender on the internet: on Debian 12 its source address is outside the
# default mynetworks (mynetworks_style = host: 127.0.0.1/32). Debian 13's stock main.cf trusts
# 127.0.0.0/8; there, and on both, mail for foreign domains is refused by default_transport = error.
CLIENT_ADDRESS = "127.0.0.2"


@dataclass(frozen=True)
class Leg:
    """Where one leg's mail servers live: this machine (`tree` = /) or a Debian tree run with chroot.
    Instance roots are bind-mounted into the tree at the same path, so every path is the same
    inside and outside."""
    name: str
    tree: Path
    dovecot_version: str
    uid: int
    gid: int

    def cmd(self, *args: str) -> list[str]:
        return list(args) if self.tree == Path("/") else ["chroot", str(self.tree), *args]

    def path(self, inner: str) -> Path:
        """A path of the leg's own system (e.g. /etc/dovecot) as seen from this machine."""
        return self.tree / inner.lstrip("/")


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


def _umount(path: Path) -> None:
    # Lazy: a daemon that is still exiting must not keep the mount (and the tree) around.
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def open_leg(name: str) -> Leg:
    if name == "debian12":
        uid, gid = ensure_vmail_user()
        return Leg(name, Path("/"), "2.3", uid, gid)
    from tests.mailstack import debian13

    tree = Path(tempfile.mkdtemp(prefix="mailadmin-trixie-", dir="/tmp"))
    debian13.unpack(tree)
    tree.chmod(0o755)
    _mount("-t", "proc", "proc", str(tree / "proc"))
    return Leg(name, tree, "2.4", debian13.VMAIL_UID, debian13.VMAIL_GID)


def close_leg(leg: Leg) -> None:
    if leg.tree == Path("/"):
        return
    from tests.mailstack import debian13

    _umount(leg.tree / "proc")
    debian13.remove_tree(leg.tree)


def _stock_master_cf(text: str, smtp_port: int) -> str:
    """The stock master.cf with its `smtp inet` listener moved to a loopback test port (chroot and
    every other column as the package ships them)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "smtp" and fields[1] == "inet":
            lines[i] = line.replace("smtp", f"127.0.0.1:{smtp_port}", 1)
            return "\n".join(lines) + "\n"
    raise RuntimeError("no `smtp inet` service in the stock master.cf")


def _private_certificate(leg: Leg, dovecot_dir: Path, root: Path) -> None:
    """Debian 12's stock 10-ssl.conf reads /etc/dovecot/private/dovecot.pem, which its postinst
    only makes when ssl-cert is installed (a Recommends). Without it, point those two lines at a
    self-signed pair in the private root, leaving TLS settings otherwise as shipped."""
    ssl_conf = dovecot_dir / "conf.d" / "10-ssl.conf"
    text = ssl_conf.read_text()
    stock = "/etc/dovecot/private/"
    if stock not in text or leg.path(stock + "dovecot.pem").exists():
        return
    tls = root / "tls"
    tls.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=mx.test.example", "-keyout", str(tls / "dovecot.key"), "-out", str(tls / "dovecot.pem")],
                   check=True, capture_output=True, timeout=60)
    ssl_conf.write_text(text.replace(stock, f"{tls}/"))


def write_generated_config(leg: Leg, config_dir: Path, options: dict) -> None:
    """`manage.py mailconfig --out config_dir`, with the secret files in the leg's own postfix and
    dovecot groups (a Debian tree's gids differ from this machine's)."""
    on_host = leg.tree == Path("/")
    call_command("mailconfig", out=str(config_dir), postfix_group="postfix" if on_host else "",
                 dovecot_group="dovecot" if on_host else "", stdout=open(os.devnull, "w"), **options)
    give_secrets_to_leg_groups(leg, config_dir)


def give_secrets_to_leg_groups(leg: Leg, config_dir: Path) -> None:
    """chgrp mailconfig's 0640 files to the leg's own postfix and dovecot groups: in a Debian
    tree, the gids differ from this machine's, so the host's group names mean nothing there."""
    if leg.tree == Path("/"):
        return
    secret = [str(p) for p in config_dir.rglob("*") if p.is_file() and stat.S_IMODE(p.stat().st_mode) == 0o640]
    for group, paths in (("postfix", [p for p in secret if "/postfix/" in p]),
                         ("dovecot", [p for p in secret if "/dovecot/" in p])):
        subprocess.run(leg.cmd("chgrp", group, *paths), check=True, timeout=30)


def start_mail_stack(root: Path, db: dict, leg: Leg, configure=None) -> MailStack:
    """Postfix and Dovecot of `leg` under `root`, configured by mailconfig for database `db`;
    `configure(config_dir, mail_root, uid, gid)`, if given, runs dbroles and mailconfig
    instead (e.g. against another cluster, through `manage.py` in a subprocess)."""
    from domains.mailstack import MAIN_CF_SNIPPET_PARAMETERS, RECIPIENT_RESTRICTIONS_STEP

    uid, gid = leg.uid, leg.gid
    smtp_port, imap_port, submission_port = free_port(), free_port(), free_port()
    if leg.tree != Path("/"):
        (leg.path(str(root))).mkdir(parents=True)
        _mount("--bind", str(root), str(leg.path(str(root))))
    config_dir = root / "generated"
    mail_root = root / "mail"
    mail_root.mkdir()
    os.chown(mail_root, uid, gid)
    if configure is not None:
        mailconfig_options = {}
        configure(config_dir, mail_root, uid, gid)
        give_secrets_to_leg_groups(leg, config_dir)
    else:
        call_command("dbroles", reader_role="mailreader_test", reader_password=READER_PASSWORD,
                     quota_role="mailquota_test", quota_password=QUOTA_PASSWORD, stdout=open(os.devnull, "w"))
        mailconfig_options = dict(
            db_host=db["HOST"] or "127.0.0.1", db_port=int(db["PORT"] or 5432), db_name=db["NAME"],
            reader_role="mailreader_test", reader_password=READER_PASSWORD, quota_role="mailquota_test",
            quota_password=QUOTA_PASSWORD, mail_root=str(mail_root), uid=uid, gid=gid,
            dovecot_version=leg.dovecot_version, vmail_group=VMAIL)
        write_generated_config(leg, config_dir, mailconfig_options)

    # Postfix: the stock main.cf and master.cf, then exactly the documented steps, then the test settings.
    assert not set(TEST_MAIN_CF) & set(MAIN_CF_SNIPPET_PARAMETERS), "the test settings must not mask the snippet"
    postfix_dir = root / "postfix"
    postfix_dir.mkdir()
    shutil.copy(leg.path("/usr/share/postfix/main.cf.debian"), postfix_dir / "main.cf")
    (postfix_dir / "master.cf").write_text(_stock_master_cf(leg.path("/etc/postfix/master.cf").read_text(), smtp_port))
    postconf = leg.cmd("postconf", "-c", str(postfix_dir))
    subprocess.run([*postconf, "-e", f"smtpd_recipient_restrictions = {ADMIN_RECIPIENT_RESTRICTIONS}"], check=True,
                   capture_output=True, timeout=30)
    subprocess.run([*postconf, "-X", "recipient_delimiter"], check=True, capture_output=True, timeout=30)
    with open(postfix_dir / "main.cf", "a") as main_cf:   # cat main.cf.snippet >> main.cf
        main_cf.write((config_dir / "postfix" / "main.cf.snippet").read_text())
    # The documented command as the admin's shell runs it, for this instance's directories.
    step = (RECIPIENT_RESTRICTIONS_STEP.replace("/etc/mailadmin/", f"{config_dir}/")
            .replace("postconf ", f"postconf -c {postfix_dir} "))
    subprocess.run(leg.cmd("bash", "-c", step), check=True, capture_output=True, timeout=30)
    settings = {**DOCUMENTED_MAIN_CF, **{k: v.format(root=root) for k, v in TEST_MAIN_CF.items()}}
    subprocess.run([*postconf, "-e", *(f"{k}={v}" for k, v in settings.items())], check=True, capture_output=True,
                   timeout=30)
    # Step 6: the submission service (here on a loopback test port) and the server's certificate.
    certificate, key = _self_signed_pair(root)
    service = f"127.0.0.1:{submission_port}/inet"
    subprocess.run([*postconf, "-e", f"smtpd_tls_cert_file={certificate}", f"smtpd_tls_key_file={key}"],
                   check=True, capture_output=True, timeout=30)
    subprocess.run([*postconf, "-M", f"{service}=127.0.0.1:{submission_port} inet n - y - - smtpd"],
                   check=True, capture_output=True, timeout=30)
    subprocess.run([*postconf, "-P", *(f"{service}/{k}={v}" for k, v in DOCUMENTED_SUBMISSION.items())],
                   check=True, capture_output=True, timeout=30)
    for sub in ("postfix-queue", "postfix-data"):
        (root / sub).mkdir()
    postfix_ids = subprocess.run(leg.cmd("id", "-u", "postfix"), capture_output=True, text=True, check=True).stdout
    postfix_gid = subprocess.run(leg.cmd("id", "-g", "postfix"), capture_output=True, text=True, check=True).stdout
    os.chown(root / "postfix-data", int(postfix_ids), int(postfix_gid))

    # Dovecot: the stock /etc/dovecot, the documented `!include` at its end, then the test block.
    dovecot_dir = root / "dovecot"
    shutil.copytree(leg.path("/etc/dovecot"), dovecot_dir, symlinks=True)
    _private_certificate(leg, dovecot_dir, root)
    subprocess.run(leg.cmd("bash", "-c", DOCUMENTED_AUTH_SYSTEM_STEP.replace("/etc/dovecot/", f"{dovecot_dir}/")),
                   check=True, capture_output=True, timeout=30)
    dovecot_conf = dovecot_dir / "dovecot.conf"
    with open(dovecot_conf, "a") as conf:
        conf.write(f"\n!include {config_dir}/dovecot/conf.snippet\n")
        conf.write(TEST_DOVECOT_CONF.format(tag=f"{leg.name}-{root.name}", root=root, imap_port=imap_port,
                                            smtp_port=smtp_port))
    stack = MailStack(root=root, config_dir=config_dir, postfix_dir=postfix_dir, dovecot_conf=dovecot_conf,
                      mail_root=mail_root, smtp_port=smtp_port, imap_port=imap_port,
                      submission_port=submission_port,
                      uid=uid, gid=gid, db_name=db["NAME"], leg=leg, mailconfig_options=mailconfig_options,
                      logs={"postfix": root / "postfix.log", "dovecot": root / "dovecot.log"})
    # Daemons inherit stdout/stderr: send them to a file, not to a pipe we would wait on forever.
    # Postfix first: it creates the queue's private/ directory where Dovecot puts the LMTP socket.
    with open(root / "start.log", "ab") as out:
        postfix = subprocess.run(leg.cmd("postfix", "-c", str(postfix_dir), "start"), stdout=out, stderr=out,
                                 timeout=60)
        dovecot = subprocess.run(leg.cmd("dovecot", "-c", str(dovecot_conf)), stdout=out, stderr=out, timeout=30)
    if dovecot.returncode or postfix.returncode:
        stop_mail_stack(stack)
        raise RuntimeError(f"starting the mail stack failed:\n{(root / 'start.log').read_text()}")
    wait_for_port(smtp_port)
    wait_for_port(imap_port)
    wait_for_port(submission_port)
    wait_for_path(root / "postfix-queue" / "private" / "dovecot-lmtp")
    return stack


def stop_mail_stack(stack: MailStack) -> None:
    leg = stack.leg
    with open(stack.root / "start.log", "ab") as out:
        subprocess.run(leg.cmd("postfix", "-c", str(stack.postfix_dir), "stop"), stdout=out, stderr=out, timeout=60)
        subprocess.run(leg.cmd("doveadm", "-c", str(stack.dovecot_conf), "stop"), stdout=out, stderr=out, timeout=30)
    if leg.tree != Path("/"):
        _wait_for_no_process_in(leg.tree)
        _umount(leg.path(str(stack.root)))


def _wait_for_no_process_in(tree: Path, timeout: float = 15.0) -> None:
    # Daemons we started in the tree finish exiting before the tree goes away.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    busy = busy or os.readlink(proc / "root") == str(tree)
                except OSError:
                    pass
        if not busy:
            return
        time.sleep(0.1)


LEGS = ("debian12", "debian13")


@pytest.fixture(scope="session", params=LEGS)
def mail_stack_session(request, django_db_setup, django_db_blocker):
    for tool in ("postfix", "postmap", "dovecot", "doveadm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run bin/test, which installs deps/apt-test.txt")
    leg = open_leg(request.param)
    # Under /tmp, world-traversable: Postfix and Dovecot daemons run as their own users.
    root = Path(tempfile.mkdtemp(prefix=f"mailadmin-stack-{leg.name}-", dir="/tmp"))
    root.chmod(0o755)
    try:
        with django_db_blocker.unblock():
            stack = start_mail_stack(root, connection.settings_dict, leg)
        try:
            yield stack
        finally:
            stop_mail_stack(stack)
    finally:
        close_leg(leg)
        if os.environ.get("MAILSTACK_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mail_stack(mail_stack_session):
    """The running stack, with an empty mail store and queue: each test starts from no mail."""
    stack = mail_stack_session
    subprocess.run(stack.leg.cmd("postsuper", "-c", str(stack.postfix_dir), "-d", "ALL"), capture_output=True,
                   timeout=30)
    for entry in stack.mail_root.iterdir():
        shutil.rmtree(entry, ignore_errors=True)
    yield stack
