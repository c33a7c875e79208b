"""The generated Sieve script, run by Pigeonhole's own `sieve-test` (Debian's dovecot-sieve):
whatever the user types, the script's only actions are one vacation reply carrying that text
verbatim and the implicit keep."""
import datetime
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from vacation.sieve import VacationRule, quote, vacation_script

HOSTILE = ['"; discard; #', '\\', '\\"', '"', "text:\r\n.\r\n", ".", "..", "\n.\nstop;\n", "${hex:41}",
           "# comment", "/* open", "}", 'keep; redirect "x@evil.example";']
MESSAGE = b"From: alice@example.org\r\nTo: john@example.org\r\nSubject: hi\r\nMessage-ID: <1@test>\r\n\r\nhello\r\n"


def sieve_test(script: str) -> str:
    """Run `script` on MESSAGE with sieve-test as an unprivileged user; return its report."""
    if shutil.which("sieve-test") is None:
        pytest.fail("sieve-test is missing: run bin/install-deps test (deps/apt-test.txt: dovecot-sieve)")
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o777)
        (Path(work) / "v.sieve").write_text(script, newline="")
        (Path(work) / "m.eml").write_bytes(MESSAGE)
        result = subprocess.run(["runuser", "-u", "nobody", "--", "sieve-test", "-o", f"mail_location=maildir:{work}/md",
                                 "-o", "mail_uid=nobody", "-o", "mail_gid=nogroup", f"{work}/v.sieve", f"{work}/m.eml"],
                                capture_output=True, timeout=60)
    output = result.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    assert result.returncode == 0, output + result.stderr.decode("utf-8", "replace")
    return output


def actions(report: str) -> list[str]:
    return re.findall(r"^ \* (.+)$", report, re.M)


def message_text(report: str) -> str:
    return report.split("START MESSAGE\n", 1)[1].split("\nEND MESSAGE", 1)[0]


def test_hostile_subject_and_body_stay_text():
    body = "\n".join(HOSTILE) + "\nbye"
    subject = " ".join(h for h in HOSTILE if "\n" not in h and "\r" not in h)
    report = sieve_test(vacation_script(VacationRule("john@example.org", subject, body, days=3)))
    assert actions(report) == ["send vacation message:", "store message in folder: INBOX"]
    assert f"subject : {subject}\n" in report
    assert message_text(report) == body.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)
       .filter(lambda s: s.strip() == s and s),
       body=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), min_size=1, max_size=200)
       .filter(lambda b: b.strip()))
def test_any_text_gives_one_reply_and_the_keep(subject, body):
    report = sieve_test(vacation_script(VacationRule("john@example.org", subject, body)))
    assert actions(report) == ["send vacation message:", "store message in folder: INBOX"]


@pytest.mark.parametrize("first, last, replies", [
    (-1, 1, True), (None, 1, True), (-1, None, True), (1, 5, False), (-5, -1, False), (0, 0, True)])
def test_dates_bound_the_reply(first, last, replies):
    # sieve-test runs in this machine's local time, as Dovecot does at delivery.
    today = datetime.date.today()
    day = lambda offset: today + datetime.timedelta(days=offset) if offset is not None else None
    report = sieve_test(vacation_script(VacationRule("john@example.org", "away", "back soon",
                                                     first_day=day(first), last_day=day(last))))
    assert ("send vacation message:" in actions(report)) is replies
    assert "store message in folder: INBOX" in actions(report)


def test_quote_escapes_only_quote_and_backslash():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("a\nb") == '"a\r\nb"'
    with pytest.raises(ValueError):
        quote("nul\x00")


@pytest.mark.parametrize("rule", [
    VacationRule("j@example.org", "two\nlines", "x"),
    VacationRule("j@example.org", "s", "x", days=0),
    VacationRule("j@example.org", "s", "x", days=61),
    VacationRule("j@example.org", "s", "x", first_day=datetime.date(2030, 1, 2), last_day=datetime.date(2030, 1, 1)),
])
def test_rules_the_script_cannot_carry_are_refused(rule):
    with pytest.raises(ValueError):
        vacation_script(rule)
