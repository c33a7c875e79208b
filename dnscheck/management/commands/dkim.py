"""python manage.py dkim list|generate|rotate|retire|export: the panel's DKIM keys.

`export --out DIR` writes what OpenDKIM needs: one private key file per active key
(mode 0600), a KeyTable and a SigningTable (the newest active key of each domain signs;
use `SigningTable refile:/path/SigningTable` in opendkim.conf).
"""
from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_record
from dnscheck import services
from dnscheck.models import DkimKey
from domains.addresses import normalize_domain
from domains.models import Domain


def _write(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # also when the file already existed with another mode
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)


class Command(BaseCommand):
    help = "Manage and export DKIM keys (private keys are only ever written by export, mode 0600)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="list keys (never the private keys)")
        listing.add_argument("--domain")
        for name in ("generate", "rotate"):
            p = sub.add_parser(name, help="create a key with a new selector (old keys stay active)")
            p.add_argument("--domain", required=True)
            p.add_argument("--algorithm", choices=DkimKey.Algorithm.values, default=DkimKey.Algorithm.RSA_2048)
        retire = sub.add_parser("retire", help="retire a key (remove its DNS record afterwards)")
        retire.add_argument("--domain", required=True)
        retire.add_argument("--selector", required=True)
        export = sub.add_parser("export", help="write key files, KeyTable and SigningTable")
        export.add_argument("--out", required=True, help="output directory")
        export.add_argument("--key-dir", help="where the key files will live on the mail server "
                                              "(default: DIR/keys), as written in the KeyTable")

    def _domain(self, name: str) -> Domain:
        try:
            return Domain.objects.get(name=normalize_domain(name))
        except (ValidationError, Domain.DoesNotExist):
            raise CommandError(f"Unknown domain: {name}") from None

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _list(self, domain=None, **options):
        keys = DkimKey.objects.select_related("domain").defer("private_key").order_by("domain__name", "-created")
        if domain:
            keys = keys.filter(domain=self._domain(domain))
        for key in keys:
            state = "active" if key.active else f"retired {key.retired:%Y-%m-%d}"
            self.stdout.write(f"{key.domain.name}\t{key.selector}\t{key.algorithm}\t{key.created:%Y-%m-%d}\t{state}")

    def _generate(self, domain, algorithm, **options):
        key = services.dkim_key_generate(domain=self._domain(domain), algorithm=algorithm, acting_user=None)
        self.stdout.write(f"{key}\tIN TXT\t\"{key.txt_value}\"")

    _rotate = _generate

    def _retire(self, domain, selector, **options):
        try:
            key = DkimKey.objects.get(domain=self._domain(domain), selector=selector)
        except DkimKey.DoesNotExist:
            raise CommandError(f"No key {selector} for {domain}") from None
        services.dkim_key_retire(key=key, acting_user=None)
        self.stdout.write(f"retired {key}")

    def _export(self, out, key_dir=None, **options):
        out = Path(out).resolve()
        keys_out = out / "keys"
        keys_out.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(keys_out, 0o700)
        key_dir = Path(key_dir) if key_dir else keys_out
        key_table, signing_table, signing_domains = [], [], set()
        keys = DkimKey.objects.filter(retired__isnull=True).select_related("domain").order_by("domain__name", "-created", "-id")
        for key in keys:
            domain = key.domain.name
            filename = f"{domain}.{key.selector}.private"
            _write(keys_out / filename, key.private_key, 0o600)
            key_table.append(f"{key.selector}._domainkey.{domain} {domain}:{key.selector}:{key_dir / filename}")
            if domain not in signing_domains:  # newest active key of the domain signs
                signing_domains.add(domain)
                signing_table.append(f"*@{domain} {key.selector}._domainkey.{domain}")
        _write(out / "KeyTable", "".join(line + "\n" for line in key_table), 0o644)
        _write(out / "SigningTable", "".join(line + "\n" for line in signing_table), 0o644)
        audit_record(actor=None, action="dkim.export", object_type="dkimkey",
                     object_repr=f"{len(key_table)} keys to {out}")
        self.stdout.write(f"{len(key_table)} keys for {len(signing_domains)} domains written to {out}")
