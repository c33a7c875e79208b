"""Arbitrary text on the command line: a clear CommandError, never a traceback."""
import io

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings, strategies as st

pytestmark = pytest.mark.django_db

ARG = st.one_of(st.text(max_size=40).filter(lambda s: not s.startswith("-")),
                st.sampled_from(["", "@", "a@", "@b", "x@y.example", "é.example", "\x00", "1G", "-1", "0"]))

COMMANDS = [
    ("domain", "add", "{0}"), ("domain", "show", "{0}"), ("domain", "update", "{0}", "--quota", "{1}"),
    ("domain", "delete", "{0}"), ("domain", "add", "ok.example", "--max-quota", "{1}"),
    ("mailbox", "add", "{0}", "--generate-password", "--quota", "{1}"), ("mailbox", "show", "{0}"),
    ("mailbox", "update", "{0}", "--name", "{1}"), ("mailbox", "forward", "{0}", "{1}"),
    ("mailbox", "delete", "{0}"), ("alias", "add", "{0}", "{1}"), ("alias", "update", "{0}", "--add", "{1}"),
    ("alias", "delete", "{0}"), ("aliasdomain", "add", "{0}", "{1}"), ("aliasdomain", "delete", "{0}"),
    ("mailbox", "list", "--domain", "{0}", "--search", "{1}"), ("alias", "list", "--domain", "{0}"),
    ("quota", "report", "--domain", "{0}"), ("dnscheck", "--domain", "{0}"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(command=st.sampled_from(COMMANDS), first=ARG, second=ARG)
def test_cli_survives_arbitrary_arguments(command, first, second):
    args = [part.format(first, second) for part in command]
    try:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as exc:
        assert str(exc).strip(), "an error must say what is wrong"
