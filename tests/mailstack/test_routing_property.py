"""The routing model is Postfix: random small configurations, written through the services,
answered by the real Postfix and by domains/routing.py, must agree on every address:

* end to end, the full expansion: `sendmail -bv` for every probe address (Postfix's address
  verification: cleanup expands it through every virtual_alias_maps table recursively, qmgr
  resolves each final recipient and asks its delivery agent, which for LMTP asks Dovecot at
  RCPT, and a report comes back by mail). The reports are delivered to a test mailbox, parsed,
  and compared with the model's final recipients and what becomes of each (sendmail(1) -bv,
  ADDRESS_VERIFICATION_README);
* each map alone (postmap -q through proxymap), and smtpd's RCPT verdict over SMTP.

Examples: ROUTING_PROPERTY_EXAMPLES (default 8 in bin/test; e.g. 200 for a long run).
"""
import email
import email.policy
import itertools
import os
import smtplib
import subprocess
import time

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings, strategies as st

from domains import routing, services
from domains.models import Alias, AliasDomain, DeletedMaildir, Domain, Mailbox
from domains.routing_db import model_for

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("ROUTING_PROPERTY_EXAMPLES", "8"))
DOMAINS = ["a.example", "b.example"]
ALIAS_DOMAINS = ["x.example"]
LOCALS = ["u", "v", "w"]
ADDRESSES = [f"{l}@{d}" for l in LOCALS for d in DOMAINS + ALIAS_DOMAINS] + ["out@remote.example"]
PROBES = [f"{l}@{d}" for l in LOCALS + ["nobody"] for d in DOMAINS + ALIAS_DOMAINS] + ["z@remote.example"]
# With a recipient_delimiter, also addresses with an extension.
EXTENSION_PROBES = [f"{l}+tag@{d}" for l in LOCALS[:2] for d in DOMAINS + ALIAS_DOMAINS]
# Every map Postfix consults for an address key (the domain maps are checked on domain names).
ADDRESS_MAPS = ["disabled_recipient_maps", "virtual_alias_maps", "virtual_mailbox_self_maps",
                "alias_domain_alias_maps", "alias_domain_mailbox_maps", "virtual_mailbox_maps",
                "recipient_access", "sender_login_maps"]
DOMAIN_MAPS = ["virtual_mailbox_domains", "virtual_alias_domains", "relay_domains"]

destinations = st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=3, unique=True)
config = st.fixed_dictionaries({
    # Mostly active: an inactive domain routes nothing, so its examples teach little.
    "domain_active": st.lists(st.sampled_from([True, True, True, False]), min_size=2, max_size=2),
    "alias_domain": st.one_of(st.none(), st.tuples(st.sampled_from(DOMAINS), st.booleans())),
    "mailboxes": st.lists(st.tuples(st.sampled_from(LOCALS), st.sampled_from(DOMAINS), st.booleans()),
                          max_size=4, unique_by=lambda t: t[:2]),
    "aliases": st.lists(st.tuples(st.sampled_from(LOCALS + [""]), st.sampled_from(DOMAINS), destinations,
                                  st.booleans()), max_size=4, unique_by=lambda t: t[:2]),
    "forwardings": st.lists(st.tuples(st.integers(0, 3), destinations, st.booleans()), max_size=2),
    "deactivate": st.lists(st.integers(0, 3), max_size=2),
})


def renamed(value, n: int):
    """Fresh domain names for every example: smtpd caches each recipient's address class (its
    resolve cache lives as long as the process), so a name reused across examples would be
    answered from an earlier example's configuration."""
    if isinstance(value, str):
        return value.replace(".example", f".t{n}.example")
    if isinstance(value, (list, tuple)):
        return type(value)(renamed(v, n) for v in value)
    if isinstance(value, dict):
        return {k: renamed(v, n) for k, v in value.items()}
    return value


def build(cfg, n: int) -> None:
    """Write the configuration through the services; writes they refuse are skipped."""
    def attempt(call):
        try:
            return call()
        except ValidationError:
            return None

    cfg = renamed(cfg, n)
    names = renamed(DOMAINS, n)
    domains = [services.domain_create(name=name, active=active, acting_user=None)
               for name, active in zip(names, cfg["domain_active"])]
    if cfg["alias_domain"]:
        target, active = cfg["alias_domain"]
        attempt(lambda: services.alias_domain_create(name=renamed(ALIAS_DOMAINS[0], n), target=domains[names.index(target)],
                                                     active=active, acting_user=None))
    boxes = [attempt(lambda: services.mailbox_create(domain=domains[names.index(d)], local_part=l, password="pw",
                                                     active=a, acting_user=None)) for l, d, a in cfg["mailboxes"]]
    boxes = [b for b in boxes if b]
    for local, domain, dests, active in cfg["aliases"]:
        attempt(lambda: services.alias_create(domain=domains[names.index(domain)], local_part=local,
                                              destinations=dests, active=active, acting_user=None))
    for index, dests, keep_copy in cfg["forwardings"]:
        if index < len(boxes):
            attempt(lambda: services.mailbox_set_forwarding(mailbox=boxes[index], destinations=dests,
                                                            keep_copy=keep_copy, acting_user=None))
    for index in cfg["deactivate"]:
        if index < len(boxes):
            attempt(lambda: services.mailbox_set_active(mailbox=boxes[index], active=False, acting_user=None))


def postmap_all(stack, name: str, keys: list[str]) -> dict[str, str]:
    """One `postmap -q -` through proxymap: every key that the map answers, with its answer."""
    table = f"proxy:pgsql:{stack.config_dir / 'postfix' / (name + '.cf')}"
    result = subprocess.run(stack.leg.cmd("postmap", "-c", str(stack.postfix_dir), "-q", "-", table),
                            input="\n".join(keys) + "\n",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 1), result.stderr
    return dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)


def rcpt_verdicts(stack, addresses: list[str]) -> dict[str, tuple[int, str]]:
    """smtpd's reply to RCPT TO for each address (a new session every few refusals, under
    smtpd_soft_error_limit)."""
    verdicts = {}
    for start in range(0, len(addresses), 6):
        with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
            smtp.ehlo("probe.test.example")
            for address in addresses[start:start + 6]:
                smtp.mail("sender@outside.example")
                code, reply = smtp.rcpt(address)
                verdicts[address] = (code, reply.decode())
                smtp.rset()
    return verdicts


# The mailbox that receives the `sendmail -bv` reports, in a domain no probe touches.
REPORTS = "verify@reports.example"


def verify(stack, probes: list[str], report_to: str, expected: int, timeout: float = 40.0) -> dict[str, set]:
    """`sendmail -bv` for each probe (one request each, so a probe Postfix cannot expand does not
    take the others with it), then the reports in `report_to`'s Maildir: for each probe, the set
    of (final recipient, what became of it) of its report. Waits for `expected` reports; a probe
    with no report within `timeout` seconds (cleanup deferred it: 4.6.0 alias expansion error)
    is absent from the answer."""
    for probe in probes:
        subprocess.run(stack.leg.cmd("sendmail", "-C", str(stack.postfix_dir), "-bv", "-f", report_to, probe),
                       check=True, capture_output=True, timeout=30)
    deadline = time.monotonic() + timeout
    while len(stack.messages(report_to)) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    if len(stack.messages(report_to)) < len(probes):
        time.sleep(1)   # a report the model did not expect (it said: deferred) may still come
    found: dict[str, set] = {}
    for path in stack.messages(report_to):
        report = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
        for part in report.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            for fields in part.get_payload()[1:]:   # the per-message fields, then one block per recipient
                final = fields["Final-Recipient"].split(";", 1)[1].strip().lower()
                original = (fields["Original-Recipient"] or fields["Final-Recipient"]).split(";", 1)[1].strip().lower()
                found.setdefault(original, set()).add((final, _fate(fields)))
    return found


def _fate(fields) -> str:
    """What a -bv report says became of one final recipient (the classes of `model_fate`)."""
    diagnostic = " ".join((fields["Diagnostic-Code"] or "").split())
    if fields["Action"] == "deliverable":
        return "delivered"
    if "outbound mail is disabled" in diagnostic:          # default_transport/relay_transport = error
        return "external"
    if "User unknown in virtual alias table" in diagnostic:  # still in an alias domain: trivial-rewrite
        return "alias_domain_unknown"
    if fields["Status"].startswith("5.2.2"):                # Dovecot, lmtp_rcpt_check_quota
        return "over_quota"
    return f"refused {fields['Status']}: {diagnostic}"      # Dovecot refused the user at RCPT


def model_fate(outcome: routing.Outcome) -> str:
    """The model's outcome in the classes of `_fate`: Dovecot refuses an unknown or inactive user
    alike (its user_query does not return an inactive mailbox), with 550 5.1.1."""
    return {"delivered": "delivered", "external": "external", "relayed": "external",
            "alias_domain_unresolved": "alias_domain_unknown", "over_quota": "over_quota"}.get(
        outcome.result, "refused 5.1.1")


def model_expansions(model: routing.Model, probes: list[str]) -> dict[str, set | None]:
    """For each probe, what `sendmail -bv` should report: None when Postfix defers the message."""
    expected = {}
    for probe in probes:
        final, error, _cycle = model.expand(probe, [])
        if error:
            expected[probe] = None
            continue
        fates = set()
        for address in final:
            outcome = model.outcome(address)
            if outcome.result == "unknown" and model.address_class(routing.split(address)[1]) == "alias_domain":
                fates.add((address, "alias_domain_unknown"))
            else:
                fates.add((address, model_fate(outcome)))
        expected[probe] = fates
    return expected


def same_fates(ours: set | None, theirs: set | None) -> bool:
    """Equal, reading Dovecot's refusals by their status only (its reply text varies by version)."""
    def normal(fates):
        return None if fates is None else {(a, f.split(":")[0] if f.startswith("refused") else f) for a, f in fates}
    return normal(ours) == normal(theirs)


def as_set(answer) -> set[str] | None:
    if answer is None:
        return None
    return set(answer.split(",")) if isinstance(answer, str) else set(answer)


@pytest.fixture
def clean_db():
    def clean():
        Alias.objects.all().delete()
        AliasDomain.objects.all().delete()
        Mailbox.objects.all().delete()
        Domain.objects.all().delete()
        DeletedMaildir.objects.all().delete()
    return clean


@pytest.fixture(params=["", "+"], ids=["no-delimiter", "delimiter-plus"])
def recipient_delimiter(request, mail_stack, settings):
    """Postfix's recipient_delimiter for this test (restored after), and the panel's setting."""
    postconf = ["postconf", "-c", str(mail_stack.postfix_dir)]

    def set_delimiter(value: str) -> None:
        subprocess.run([*postconf, "-e", f"recipient_delimiter = {value}"], check=True, capture_output=True,
                       timeout=30)
        mail_stack.postfix("reload")

    original = subprocess.run([*postconf, "-h", "recipient_delimiter"], check=True, capture_output=True,
                              text=True, timeout=30).stdout.strip()
    settings.MAILADMIN_RECIPIENT_DELIMITER = request.param
    if request.param != original:
        set_delimiter(request.param)
    yield request.param
    if request.param != original:
        set_delimiter(original)


# Module-wide, so no two examples of the session share a domain name (see `renamed`).
COUNTER = itertools.count()


def test_the_model_agrees_with_postfix(mail_stack, clean_db, recipient_delimiter):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("CI") is not None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(cfg=config)
    def check(cfg):
        clean_db()
        n = next(COUNTER)
        build(cfg, n)
        probes = renamed(PROBES + (EXTENSION_PROBES if recipient_delimiter else []), n)
        domain_keys = renamed(DOMAINS + ALIAS_DOMAINS + ["remote.example"], n)
        keys = probes + ["@" + d for d in domain_keys[:-1]]
        report_to = renamed(REPORTS, n)
        reports_domain = services.domain_create(name=routing.split(report_to)[1], acting_user=None)
        services.mailbox_create(domain=reports_domain, local_part=routing.split(report_to)[0], password="pw",
                                acting_user=None)
        model = model_for(keys, lambda m: [m.resolve(k) for k in probes] + [m.table(n)(k) for n in ADDRESS_MAPS
                                                                             for k in keys]
                          + [model_expansions(m, probes)])
        differences = []
        expected = model_expansions(model, probes)
        reported = verify(mail_stack, probes, report_to, sum(1 for fates in expected.values() if fates is not None))
        for probe in probes:
            if not same_fates(expected[probe], reported.get(probe)):
                differences.append(("sendmail -bv", probe, expected[probe], reported.get(probe)))
        for name in ADDRESS_MAPS:
            real = postmap_all(mail_stack, name, keys)
            for key in keys:
                ours = model.table(name)(key)
                theirs = real.get(key)
                if name == "virtual_mailbox_maps":   # Postfix answers the maildir: compare presence
                    ours, theirs = ours is not None, theirs is not None
                elif name == "recipient_access":     # one reply text
                    ours = ours[0] if ours else None
                else:
                    ours, theirs = as_set(ours), as_set(theirs)
                if ours != theirs:
                    differences.append((name, key, ours, theirs))
        for name in DOMAIN_MAPS:
            real = postmap_all(mail_stack, name, domain_keys)
            for key in domain_keys:
                if (model.table(name)(key) is not None) != (key in real):
                    differences.append((name, key, model.table(name)(key), real.get(key)))
        expected_code = {"accepted": 250, "disabled": 550, "unknown": 550}
        for address, (code, reply) in rcpt_verdicts(mail_stack, probes).items():
            verdict, our_reply = model.rcpt(address)
            if verdict == "relay_denied":
                # The harness's client is in mynetworks, so Postfix relays, and its error
                # default_transport refuses remote recipients at RCPT instead (550 5.1.1).
                same = code >= 500 and "outbound mail is disabled" in reply
            else:
                same = code == expected_code[verdict] and (not our_reply or our_reply.split()[1] in reply)
            if not same:
                differences.append(("rcpt", address, (verdict, our_reply), (code, reply)))
        assert not differences, differences

    check()
