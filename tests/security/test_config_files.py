"""mailconfig never writes through a planted link or temporary file; the containers keep
files that hold a password 0640 (issue 11, item 9)."""
import os
import re
import stat
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = dict(db_host="db.internal", db_port=5433, db_name="mail", reader_password="s3cret-reader",
               quota_password="s3cret-quota", mail_root="/srv/vmail", uid=5000, gid=5000, vmail_group="vmail")


def test_a_planted_tmp_symlink_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    (out / "postfix").mkdir(parents=True)
    (out / "dovecot").mkdir()
    for name in ("postfix/virtual_alias_domains.cf.tmp", "dovecot/dovecot-sql.conf.ext.tmp"):
        (out / name).symlink_to(victim)
    call_command("mailconfig", out=str(out), **OPTIONS)
    assert victim.read_text() == "precious\n"
    written = out / "postfix/virtual_alias_domains.cf"
    assert not written.is_symlink() and "s3cret-reader" in written.read_text()


def test_a_planted_tmp_file_held_open_never_receives_the_password(tmp_path):
    out = tmp_path / "out"
    (out / "postfix").mkdir(parents=True)
    planted = out / "postfix/virtual_mailbox_maps.cf.tmp"
    planted.write_text("")
    os.chmod(planted, 0o666)
    with open(planted) as spy:  # an attacker keeps a descriptor to the file they planted
        call_command("mailconfig", out=str(out), **OPTIONS)
        assert "s3cret" not in spy.read()
    final = out / "postfix/virtual_mailbox_maps.cf"
    assert stat.S_IMODE(final.stat().st_mode) == 0o640


def test_a_planted_symlink_at_the_final_name_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    (out / "dovecot").mkdir(parents=True)
    (out / "dovecot/dovecot-dict-sql.conf.ext").symlink_to(victim)
    call_command("mailconfig", out=str(out), **OPTIONS)
    assert victim.read_text() == "precious\n"
    assert not (out / "dovecot/dovecot-dict-sql.conf.ext").is_symlink()


def test_a_symlinked_output_subfolder_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "postfix").symlink_to(elsewhere)
    with pytest.raises(CommandError, match="symbolic link"):
        call_command("mailconfig", out=str(out), **OPTIONS)
    assert list(elsewhere.iterdir()) == []


def test_no_private_temporary_folder_is_left_behind(tmp_path):
    call_command("mailconfig", out=str(tmp_path), **OPTIONS)
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".mailconfig-") or p.suffix == ".tmp"]
    assert leftovers == []


def test_container_entrypoints_keep_password_files_0640():
    for entrypoint in (ROOT / "deploy").glob("*/entrypoint.sh"):
        text = entrypoint.read_text()
        assert not re.search(r"chmod\s+0?6[46]4\b.*\.(cf|ext)", text), entrypoint
    panel = (ROOT / "deploy/panel/entrypoint.sh").read_text()
    assert "--postfix-group mailconfig --dovecot-group mailconfig" in panel
    # The group that reads them has the same gid in every image, and the daemons belong to it.
    assert "groupadd --system --gid 2525 mailconfig" in (ROOT / "deploy/panel/Dockerfile").read_text()
    assert "--gid 2525 mailconfig && usermod -a -G mailconfig postfix" in (ROOT / "deploy/postfix/Dockerfile").read_text()
    assert "--gid 2525 mailconfig && usermod -a -G mailconfig dovecot" in (ROOT / "deploy/dovecot/Dockerfile").read_text()
