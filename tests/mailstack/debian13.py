"""A Debian 13 (trixie) tree with its Postfix 3.10 and Dovecot 2.4, for the trixie leg of the harness.

Built once with `debootstrap --variant=minbase trixie` from the mirror this machine's own apt
sources use (the only way CI reaches the Debian archive), then the packages installed the way
bin/install-deps installs Debian 12's (no Recommends, "No configuration" for Postfix, no daemon
started). The tree is cached as a zstd tarball under /var/cache/mailadmin-test/ and unpacked
into a fresh directory for each test session (a few seconds). The machine's apt configuration
is never touched: apt inside the tree uses the tree's own sources.list, written by debootstrap.

Needs root (debootstrap creates device nodes; the harness uses chroot(2) and mounts /proc).
Prebuild by hand with `python -m tests.mailstack.debian13`.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SUITE = "trixie"
PACKAGES = ["postfix", "postfix-pgsql", "dovecot-core", "dovecot-imapd", "dovecot-lmtpd", "dovecot-pgsql",
            "dovecot-sieve"]   # Pigeonhole: Sieve vacation replies at LMTP delivery
CACHE = Path("/var/cache/mailadmin-test")
VMAIL_UID = VMAIL_GID = 5000
# Bump when the recipe below changes, so caches built by an older recipe are not reused.
RECIPE_VERSION = "1"


def host_codename() -> str:
    text = Path("/etc/os-release").read_text()
    match = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", text, re.M)
    if not match:
        raise RuntimeError("cannot tell this machine's Debian release from /etc/os-release")
    return match.group(1)


def _apt_entries() -> list[tuple[str, list[str], list[str]]]:
    """(uri, suites, components) of every `deb` entry in /etc/apt/sources.list{,.d/*}, both formats."""
    entries = []
    files = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":   # deb822 stanzas
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line or line[:1].isspace():
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.split()
                if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
                    for uri in fields.get("uris", []):
                        entries.append((uri, fields.get("suites", []), fields.get("components", [])))
        elif path.suffix == ".list" or path.name == "sources.list":
            for line in text.splitlines():
                line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(line) >= 3 and line[0] == "deb":
                    entries.append((line[1], [line[2]], line[3:]))
    return entries


def debian_mirror() -> str:
    """The URI of the Debian archive this machine's apt already uses for its own release.

    Raises RuntimeError when no configured source serves `<codename> main`."""
    codename = host_codename()
    for uri, suites, components in _apt_entries():
        if codename in suites and "main" in components:
            return uri.rstrip("/")
    raise RuntimeError(f"no apt source for '{codename} main' in /etc/apt/sources.list*: cannot tell which "
                       "Debian mirror debootstrap may use")


def tarball_path() -> Path:
    key = hashlib.sha256(" ".join([SUITE, RECIPE_VERSION, *PACKAGES]).encode()).hexdigest()[:12]
    return CACHE / f"{SUITE}-{key}.tar.zst"


def _run(*args: str, log: Path) -> None:
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(args) + "\n").encode())
        out.flush()
        result = subprocess.run(args, stdout=out, stderr=out, timeout=1800)
    if result.returncode:
        raise RuntimeError(f"{' '.join(args[:4])} ... failed (exit {result.returncode}); see {log}")


def build(tree: Path, log: Path) -> None:
    """debootstrap `tree` and install the mail packages in it; `tree` must not exist yet."""
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed: run bin/install-deps test (deps/apt-test.txt)")
    _run("debootstrap", "--variant=minbase", SUITE, str(tree), debian_mirror(), log=log)
    policy = tree / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")   # packages must not start daemons
    policy.chmod(0o755)
    chroot = ["chroot", str(tree)]
    env_sh = "export DEBIAN_FRONTEND=noninteractive; "
    _run(*chroot, "sh", "-c", "echo 'postfix postfix/main_mailer_type select No configuration' "
         "| debconf-set-selections", log=log)
    _run(*chroot, "sh", "-c", env_sh + "apt-get update -qq && apt-get install -y -qq --no-install-recommends "
         + " ".join(PACKAGES) + " && apt-get clean && rm -rf /var/lib/apt/lists/*", log=log)
    # The owner of the mail store, inside the tree (its uids differ from the host's).
    _run(*chroot, "groupadd", "-g", str(VMAIL_GID), "vmail", log=log)
    _run(*chroot, "useradd", "-u", str(VMAIL_UID), "-g", "vmail", "-d", "/nonexistent", "-M",
         "-s", "/usr/sbin/nologin", "vmail", log=log)


def ensure_tarball() -> Path:
    """Return the cached tarball of the tree, building it first if needed (one builder at a time)."""
    target = tarball_path()
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{SUITE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        work = Path(tempfile.mkdtemp(prefix=f"build-{SUITE}-", dir=CACHE))
        tree, log = work / "tree", CACHE / f"build-{SUITE}.log"
        log.write_text("")
        try:
            build(tree, log)
            tmp = target.with_suffix(".tmp")
            _run("tar", "-C", str(tree), "--numeric-owner", "-I", "zstd -3 -T0", "-cf", str(tmp), ".", log=log)
            os.replace(tmp, target)
        finally:
            _remove_tree(work)
        return target


def unpack(dest: Path) -> None:
    """Unpack the cached tree into the empty directory `dest`."""
    subprocess.run(["tar", "-C", str(dest), "--numeric-owner", "-I", "zstd", "-xpf", str(ensure_tarball())],
                   check=True, timeout=600)


def _remove_tree(path: Path) -> None:
    # Never follow a mount into the host: refuse to delete while anything is mounted below.
    mounts = Path("/proc/mounts").read_text().split("\n")
    prefix = str(path.resolve()) + "/"
    if any(len(m.split()) > 1 and (m.split()[1] + "/").startswith(prefix) for m in mounts):
        raise RuntimeError(f"{path} still has mounts below it; not deleting")
    shutil.rmtree(path, ignore_errors=True)


remove_tree = _remove_tree

if __name__ == "__main__":
    print(ensure_tarball())
