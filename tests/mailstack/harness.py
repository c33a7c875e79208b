"""A private Postfix + Dovecot pair on loopback ports, reading the test database.

Use the session fixture `mail_stack` in tests marked `@pytest.mark.django_db(transaction=True)`:
the servers read the database through their own connections, so they only see committed rows.

    def test_delivery(mail_stack):
        mailbox = services.mailbox_create(...)
        mail_stack.send("john@example.org", subject="hi")
        assert mail_stack.wait_for_mail("john@example.org", count=1)

The configuration is the one `manage.py mailconfig` generates (roles from `manage.py dbroles`),
included verbatim into a minimal main.cf / dovecot.conf: the tests prove the shipped files.
Nothing leaves the machine: Postfix has `default_transport = error` and no DNS.
"""
from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import smtplib
import socket
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

READER_PASSWORD = "reader-" + uuid.uuid4().hex[:12]
QUOTA_PASSWORD = "quota-" + uuid.uuid4().hex[:12]
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


@dataclass
class MailStack:
    root: Path
    config_dir: Path          # what `mailconfig --out` wrote
    postfix_dir: Path
    dovecot_conf: Path
    mail_root: Path
    smtp_port: int
    imap_port: int
    lmtp_port: int
    uid: int
    gid: int
    db_name: str
    logs: dict[str, Path] = field(default_factory=dict)

    # --- Postfix ---------------------------------------------------------------------
    def postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["postfix", "-c", str(self.postfix_dir), *args], capture_output=True,
                              text=True, timeout=60, check=check)

    def postmap(self, map_name: str, key: str) -> str | None:
        """Look `key` up through the running Postfix's proxymap, as smtpd would."""
        table = f"proxy:pgsql:{self.config_dir / 'postfix' / (map_name + '.cf')}"
        result = subprocess.run(["postmap", "-c", str(self.postfix_dir), "-q", key, table],
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
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.send_message(message, from_addr=sender, to_addrs=[to] if isinstance(to, str) else to)

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
        return subprocess.run(["doveadm", "-c", str(self.dovecot_conf), *args], capture_output=True,
                              text=True, timeout=60)

    def auth_test(self, user: str, password: str) -> bool:
        return self.doveadm("auth", "test", user, password).returncode == 0

    def imap_login(self, user: str, password: str) -> bool:
        with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=15) as imap:
            try:
                imap.login(user, password)
            except imaplib.IMAP4.error:
                return False
            imap.logout()
            return True


POSTFIX_MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/postfix-queue
data_directory = {root}/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
# Nothing leaves this machine: no DNS, no outbound SMTP (backup-MX relaying included).
default_transport = error:outbound mail is disabled in tests
relay_transport = error:outbound mail is disabled in tests
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
disable_dns_lookups = yes
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}
smtputf8_enable = no
biff = no
maillog_file = {root}/postfix.log
maillog_file_prefixes = /tmp, {root}
delay_warning_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""

# Our own master.cf: no chroot (the temporary tree is not a chroot jail), one loopback listener.
POSTFIX_MASTER_CF = """\
127.0.0.1:{smtp_port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

DOVECOT_CONF = """\
instance_name = mailadmin-test-{tag}
base_dir = {root}/dovecot-run
state_dir = {root}/dovecot-state
protocols = imap lmtp
listen = 127.0.0.1
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
auth_cache_size = 0
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
!include {config_dir}/dovecot/conf.snippet
"""


def start_mail_stack(root: Path, db: dict, configure=None) -> MailStack:
    """Postfix and Dovecot under `root`, configured by mailconfig for database `db`;
    `configure(config_dir, mail_root, uid, gid)`, if given, runs dbroles and mailconfig
    instead (e.g. against another cluster, through `manage.py` in a subprocess)."""
    uid, gid = ensure_vmail_user()
    smtp_port, imap_port, lmtp_port = free_port(), free_port(), free_port()
    config_dir = root / "generated"
    mail_root = root / "mail"
    mail_root.mkdir()
    os.chown(mail_root, uid, gid)
    if configure is not None:
        configure(config_dir, mail_root, uid, gid)
    else:
        _configure_for_test_database(config_dir, mail_root, uid, gid, db)
    return _start_servers(root, config_dir, mail_root, uid, gid, db["NAME"], smtp_port, imap_port, lmtp_port)


def _configure_for_test_database(config_dir: Path, mail_root: Path, uid: int, gid: int, db: dict) -> None:
    call_command("dbroles", reader_role="mailreader_test", reader_password=READER_PASSWORD,
                 quota_role="mailquota_test", quota_password=QUOTA_PASSWORD, stdout=open(os.devnull, "w"))
    call_command("mailconfig", out=str(config_dir), db_host=db["HOST"] or "127.0.0.1",
                 db_port=int(db["PORT"] or 5432), db_name=db["NAME"], reader_role="mailreader_test",
                 reader_password=READER_PASSWORD, quota_role="mailquota_test", quota_password=QUOTA_PASSWORD,
                 mail_root=str(mail_root), uid=uid, gid=gid, stdout=open(os.devnull, "w"))


def _start_servers(root: Path, config_dir: Path, mail_root: Path, uid: int, gid: int, db_name: str,
                   smtp_port: int, imap_port: int, lmtp_port: int) -> MailStack:
    postfix_dir = root / "postfix"
    postfix_dir.mkdir()
    (postfix_dir / "main.cf").write_text(
        POSTFIX_MAIN_CF.format(root=root, lmtp_port=lmtp_port)
        + (config_dir / "postfix" / "main.cf.snippet").read_text())
    (postfix_dir / "master.cf").write_text(POSTFIX_MASTER_CF.format(smtp_port=smtp_port))
    for sub in ("postfix-queue", "postfix-data"):
        (root / sub).mkdir()
    os.chown(root / "postfix-data", pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid)

    dovecot_dir = root / "dovecot"
    dovecot_dir.mkdir()
    dovecot_conf = dovecot_dir / "dovecot.conf"
    dovecot_conf.write_text(DOVECOT_CONF.format(tag=root.name, root=root, imap_port=imap_port,
                                                lmtp_port=lmtp_port, config_dir=config_dir))
    # Dovecot reads its SQL files as root; Postfix's proxymap reads the maps as root too.
    stack = MailStack(root=root, config_dir=config_dir, postfix_dir=postfix_dir, dovecot_conf=dovecot_conf,
                      mail_root=mail_root, smtp_port=smtp_port, imap_port=imap_port, lmtp_port=lmtp_port,
                      uid=uid, gid=gid, db_name=db_name,
                      logs={"postfix": root / "postfix.log", "dovecot": root / "dovecot.log"})
    # Daemons inherit stdout/stderr: send them to a file, not to a pipe we would wait on forever.
    with open(root / "start.log", "ab") as out:
        dovecot = subprocess.run(["dovecot", "-c", str(dovecot_conf)], stdout=out, stderr=out, timeout=30)
        postfix = subprocess.run(["postfix", "-c", str(postfix_dir), "start"], stdout=out, stderr=out, timeout=60)
    if dovecot.returncode or postfix.returncode:
        raise RuntimeError(f"starting the mail stack failed:\n{(root / 'start.log').read_text()}")
    wait_for_port(smtp_port)
    wait_for_port(lmtp_port)
    wait_for_port(imap_port)
    return stack


def stop_mail_stack(stack: MailStack) -> None:
    with open(stack.root / "start.log", "ab") as out:
        subprocess.run(["postfix", "-c", str(stack.postfix_dir), "stop"], stdout=out, stderr=out, timeout=60)
        subprocess.run(["doveadm", "-c", str(stack.dovecot_conf), "stop"], stdout=out, stderr=out, timeout=30)


@pytest.fixture(scope="session")
def mail_stack_session(django_db_setup, django_db_blocker):
    for tool in ("postfix", "postmap", "dovecot", "doveadm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run bin/test, which installs deps/apt-test.txt")
    # Under /tmp, world-traversable: Postfix and Dovecot daemons run as their own users.
    root = Path(tempfile.mkdtemp(prefix="mailadmin-stack-", dir="/tmp"))
    root.chmod(0o755)
    with django_db_blocker.unblock():
        stack = start_mail_stack(root, connection.settings_dict)
    try:
        yield stack
    finally:
        stop_mail_stack(stack)
        if os.environ.get("MAILSTACK_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mail_stack(mail_stack_session):
    """The running stack, with an empty mail store and queue: each test starts from no mail."""
    stack = mail_stack_session
    subprocess.run(["postsuper", "-c", str(stack.postfix_dir), "-d", "ALL"], capture_output=True, timeout=30)
    for entry in stack.mail_root.iterdir():
        shutil.rmtree(entry, ignore_errors=True)
    yield stack
