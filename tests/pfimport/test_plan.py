"""The pure core of the import: hash schemes and Postfixadmin's conventions."""
from __future__ import annotations

import pytest

from pfimport.hashes import dovecot_hash
from pfimport.plan import (Source, SourceAlias, SourceAliasDomain, SourceDomain, SourceMailbox, build_plan,
                           split_goto)


@pytest.mark.parametrize("stored,expected", [
    ("$6$salt$hash", "{SHA512-CRYPT}$6$salt$hash"),
    ("$5$salt$hash", "{SHA256-CRYPT}$5$salt$hash"),
    ("$1$salt$hash", "{MD5-CRYPT}$1$salt$hash"),
    ("$2y$05$abcdefghijklmnopqrstuv", "{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuv"),
    ("$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"),
    ("{SHA512-CRYPT}$6$salt$hash", "{SHA512-CRYPT}$6$salt$hash"),
    ("{SHA512-CRYPT.B64}JDYkc2FsdA==", "{SHA512-CRYPT.B64}JDYkc2FsdA=="),
    ("5F4DCC3B5AA765D61D8327DEB882CF99", "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"),
    ("abJnggxhB/yWI", "{CRYPT}abJnggxhB/yWI"),
    ("plain text password", None),
    ("", None),
])
def test_dovecot_hash(stored, expected):
    assert dovecot_hash(stored) == expected


def test_split_goto():
    assert split_goto("a@x.example, b@x.example,,\nc@x.example ") == ["a@x.example", "b@x.example", "c@x.example"]


def _mailbox(address: str, quota: int = 0) -> SourceMailbox:
    local, _, domain = address.partition("@")
    return SourceMailbox(username=address, password="$6$s$h", name="", maildir=f"{domain}/{local}/", quota=quota,
                         local_part=local, domain=domain)


def test_limits_minus_one_zero_and_megabytes():
    source = Source(version="1856", domains=[
        SourceDomain("a.example", mailboxes=-1, aliases=0, maxquota=10, quota=15),
        SourceDomain("b.example", mailboxes=-1, aliases=-1, maxquota=-1, quota=0),
    ], mailboxes=[_mailbox("x@a.example", 0), _mailbox("y@a.example", 10 * 1024000)])
    plan = build_plan(source)
    fields = {d.name: d.fields for d in plan.domains}
    assert fields["a.example"]["max_mailboxes"] == 2       # -1 with 2 mailboxes: no more than those
    assert fields["a.example"]["max_aliases"] == 0          # 0 = unlimited, both sides
    assert fields["a.example"]["max_quota_bytes"] == 10 * 1024000
    # x was unlimited under a 10 MB maximum: capped; then 20 MB allocated over a 15 MB total: raised.
    assert fields["a.example"]["quota_bytes"] == 20 * 1024000
    assert fields["b.example"]["max_mailboxes"] == 0 and fields["b.example"]["max_quota_bytes"] == 0
    codes = {(n.key, n.code) for n in plan.notes}
    assert ("x@a.example", "quota_over_domain_limit") in codes and ("b.example", "mailboxes_disabled") in codes


def test_problems_are_reported_not_imported():
    source = Source(version="x", domains=[SourceDomain("a.example"), SourceDomain("b.example"),
                                          SourceDomain("bad domain!")],
                    mailboxes=[_mailbox("m@a.example"), _mailbox("n@b.example"),
                               SourceMailbox("abs@a.example", "$6$s$h", "", "/var/vmail/a/abs/", 0, "abs", "a.example")],
                    aliases=[SourceAlias("self@a.example", "self@a.example", "a.example"),
                             SourceAlias("m@a.example", "m@a.example", "a.example"),
                             SourceAlias("x@a.example", "y@a.example", "a.example"),
                             SourceAlias("y@a.example", "x@a.example,y@a.example", "a.example"),
                             SourceAlias("ok@a.example", "m@a.example,y@a.example", "a.example")],
                    alias_domains=[SourceAliasDomain("b.example", "a.example")])
    plan = build_plan(source)
    problems = {(p.key, p.code) for p in plan.problems}
    assert ("bad domain!", "invalid_domain") in problems
    assert ("self@a.example", "alias_loop") in problems
    assert ("x@a.example", "alias_loop") in problems and ("y@a.example", "alias_loop") in problems
    assert ("abs@a.example", "maildir_not_relative") in problems
    assert ("b.example", "domain_and_alias_domain") in problems
    assert [a.address for a in plan.aliases] == ["ok@a.example"]  # reaches m, a mailbox
    assert not plan.forwardings  # m's self-alias is our self-map
