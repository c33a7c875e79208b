"""The daily cleanup docs/deploy.md gives ("Routine jobs") runs as written and removes what it says."""
import re
import shlex
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def documented_commands() -> list[list[str]]:
    section = DEPLOY.read_text().split("### Routine jobs", 1)[1].split("\n## ", 1)[0]
    lines = re.findall(r"^ExecStart=/srv/mailadmin/\.venv/bin/python manage\.py (.+)$", section, re.M)
    return [shlex.split(line) for line in lines]


@pytest.mark.django_db
def test_documented_cleanup_removes_expired_sessions_and_old_login_logs():
    commands = documented_commands()
    assert [command[0] for command in commands] == ["clearsessions", "axes_reset_logs", "axes_reset_failure_logs"]
    now = timezone.now()
    Session.objects.create(session_key="expired" + "x" * 25, session_data="", expire_date=now - timedelta(days=1))
    Session.objects.create(session_key="current" + "x" * 25, session_data="", expire_date=now + timedelta(hours=1))
    for age in (120, 10):
        log = AccessLog.objects.create(username="root", ip_address="127.0.0.1", user_agent="t",
                                       http_accept="*/*", path_info="/accounts/login/")
        AccessLog.objects.filter(pk=log.pk).update(attempt_time=now - timedelta(days=age))
        failure = AccessFailureLog.objects.create(username="root", ip_address="127.0.0.1", user_agent="t",
                                                  http_accept="*/*", path_info="/accounts/login/")
        AccessFailureLog.objects.filter(pk=failure.pk).update(attempt_time=now - timedelta(days=age))

    for name, *args in commands:
        call_command(name, *args)

    assert list(Session.objects.values_list("session_key", flat=True)) == ["current" + "x" * 25]
    assert AccessLog.objects.count() == 1 and AccessLog.objects.get().attempt_time > now - timedelta(days=90)
    assert AccessFailureLog.objects.count() == 1
