"""Write the Postfix maps and Dovecot SQL configuration that read the panel's tables."""
import grp
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from domains.mailstack import DOVECOT_VERSIONS, MailConfigOptions, role_password, write_config


class Command(BaseCommand):
    help = "Write DIR/postfix/*.cf, main.cf.snippet and DIR/dovecot/* for the panel's database."

    def add_arguments(self, parser):
        db = connection.settings_dict
        parser.add_argument("--out", required=True, help="output directory")
        parser.add_argument("--db-host", default=db.get("HOST") or "127.0.0.1",
                            help="database host as Postfix and Dovecot reach it; with a streaming replica, "
                                 "several, comma-separated, each optionally HOST:PORT, replicas first: "
                                 "lookups and logins go on when the primary is lost, quota writes go to "
                                 "whichever host is the primary (docs/deploy.md)")
        parser.add_argument("--db-port", type=int, default=int(db.get("PORT") or 5432))
        parser.add_argument("--db-name", default=db.get("NAME"))
        parser.add_argument("--reader-role", default="mailreader")
        parser.add_argument("--reader-password", help="default: $MAILADMIN_READER_PASSWORD (keeps it out of ps)")
        parser.add_argument("--quota-role", default="mailquota")
        parser.add_argument("--quota-password", help="default: $MAILADMIN_QUOTA_PASSWORD (keeps it out of ps)")
        parser.add_argument("--mail-root", default=settings.MAIL_ROOT)
        parser.add_argument("--uid", type=int, default=5000)
        parser.add_argument("--gid", type=int, default=5000)
        parser.add_argument("--vmail-group",
                            help="the name of group --gid on the mail host, for Dovecot's dict socket "
                                 "(default: that gid's name here, when it has one)")
        parser.add_argument("--postfix-group", default="postfix",
                            help="group that may read the Postfix maps (proxymap runs as postfix)")
        parser.add_argument("--dovecot-group", default="dovecot",
                            help="group that may read the Dovecot SQL files")
        parser.add_argument("--recipient-delimiter", default=settings.MAILADMIN_RECIPIENT_DELIMITER,
                            help="plus-addressing delimiter for Postfix and Dovecot LMTP (default: the "
                                 "MAILADMIN_RECIPIENT_DELIMITER setting, '+'); must match the panel's setting")
        parser.add_argument("--dovecot-version", choices=DOVECOT_VERSIONS,
                            help="Dovecot release series to write for (default: ask the local `dovecot --version`)")

    def handle(self, *args, **opts):
        if not opts["mail_root"].startswith("/"):
            raise CommandError("--mail-root must be an absolute path")
        if any(host.strip().startswith("/") for host in opts["db_host"].split(",")):
            raise CommandError("--db-host must be a TCP host: Postfix's chrooted daemons cannot reach a unix socket")
        try:
            passwords = {role: role_password(opts[f"{role}_password"], role) for role in ("reader", "quota")}
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        dovecot_version = opts["dovecot_version"] or detect_dovecot_version()
        options = MailConfigOptions(
            db_host=opts["db_host"], db_port=opts["db_port"], db_name=opts["db_name"],
            reader_role=opts["reader_role"], reader_password=passwords["reader"],
            quota_role=opts["quota_role"], quota_password=passwords["quota"],
            mail_root=opts["mail_root"], uid=opts["uid"], gid=opts["gid"], dovecot_version=dovecot_version,
            recipient_delimiter=opts["recipient_delimiter"],
            vmail_group=opts["vmail_group"] or group_name(opts["gid"]),
        )
        try:
            written = write_config(Path(opts["out"]), options, postfix_group=opts["postfix_group"],
                                   dovecot_group=opts["dovecot_group"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for path in written:
            self.stdout.write(str(path))
        for warning in group_warnings(Path(opts["out"]), opts["postfix_group"], opts["dovecot_group"]):
            self.stderr.write(warning)


def group_warnings(out: Path, postfix_group: str, dovecot_group: str) -> list[str]:
    """What the admin must still do so the daemons can read the 0640 files holding passwords:
    write_config gives them to the daemon's group only when that group exists here and we run as
    root. Otherwise (mailconfig run as another user, or on the panel's host, where Postfix and
    Dovecot are not installed or have other gids) the files stay in our own group, unreadable by
    Postfix's proxymap (it runs as postfix, and answers every lookup with an error) and Dovecot."""
    import os

    warnings = []
    for group, sub, files in ((postfix_group, "postfix", "*.cf"), (dovecot_group, "dovecot", "*")):
        if os.geteuid() == 0 and group and _group_exists(group):
            continue
        why = "not running as root" if os.geteuid() else f"no group {group!r} on this host"
        warnings.append(f"warning: {out / sub}/{files} are mode 0640 but not given to group {group} ({why}): "
                        f"on the mail host, run `chgrp {group} {out.resolve() / sub}/{files}` (or "
                        f"mailconfig there, as root), or {sub} cannot read them")
    return warnings


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def group_name(gid: int) -> str:
    """The name of group `gid` on this host; CommandError naming --vmail-group when it has none
    (mailconfig run on another host than the mail server)."""
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        raise CommandError(f"no group has gid {gid} on this host: give --vmail-group, the name of the group "
                           f"with gid {gid} on the mail host (the vmail group, docs/mailstack.md)") from None


def detect_dovecot_version() -> str:
    """The release series ("2.3" or "2.4") of the Dovecot installed here, from `dovecot --version`.

    Raises CommandError naming --dovecot-version when Dovecot is missing or its version is not one
    mailconfig writes for."""
    try:
        result = subprocess.run(["dovecot", "--version"], capture_output=True, text=True, timeout=30)
        output = result.stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CommandError(f"cannot run `dovecot --version` ({exc}); give --dovecot-version 2.3 or 2.4") from exc
    match = re.match(r"(\d+\.\d+)\.", output)
    if result.returncode or not match or match.group(1) not in DOVECOT_VERSIONS:
        raise CommandError(f"cannot tell the Dovecot version from `dovecot --version` ({output or result.stderr.strip()!r}); "
                           "give --dovecot-version 2.3 or 2.4")
    return match.group(1)
