"""Check that this mail host's Postfix and Dovecot serve the panel's tables, piece by piece."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from domains.mailcheck import MailHost, run_checks


class Command(BaseCommand):
    help = ("Probe each Postfix map through proxymap, the Dovecot include, Dovecot auth and the quota "
            "usage path with a temporary probe domain; exit 1 naming each failing piece and its fix.")

    def add_arguments(self, parser):
        parser.add_argument("--config-dir", default="/etc/mailadmin", help="the directory `mailconfig --out` wrote")
        parser.add_argument("--postfix-config", default="/etc/postfix", help="Postfix's configuration directory")
        parser.add_argument("--dovecot-config", default="/etc/dovecot/dovecot.conf", help="Dovecot's dovecot.conf")
        parser.add_argument("--chroot", default="", help="run postmap/doveconf/doveadm inside this tree (a mail "
                            "host in a chroot); paths are as seen inside it")

    def handle(self, *args, **opts):
        prefix = ["chroot", opts["chroot"]] if opts["chroot"] else []
        host = MailHost(config_dir=Path(opts["config_dir"]), postfix_dir=Path(opts["postfix_config"]),
                        dovecot_conf=Path(opts["dovecot_config"]), prefix=prefix)
        results = run_checks(host)
        for result in results:
            if result.ok:
                self.stdout.write(f"ok    {result.piece}")
            else:
                self.stdout.write(f"FAIL  {result.piece}: {result.detail}\n      fix: {result.fix}")
        failed = [r.piece for r in results if not r.ok]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} checks failed: {', '.join(failed)}")
        self.stdout.write(f"all {len(results)} checks passed")
