"""The routing model is Postfix: random small configurations, written through the services,
answered by the real Postfix (postmap -q through proxymap for every map, and smtpd's RCPT
verdict over SMTP) and by domains/routing.py, must agree on every address.

Examples: ROUTING_PROPERTY_EXAMPLES (default 8 in bin/test; e.g. 200 for a long run).
"""
import itertools
import os
import smtplib
import subprocess

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
    "domain_active": st.lists(st.booleans(), min_size=2, max_size=2),
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
    result = subprocess.run(["postmap", "-c", str(stack.postfix_dir), "-q", "-", table], input="\n".join(keys) + "\n",
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
        model = model_for(keys, lambda m: [m.resolve(k) for k in probes] + [m.table(n)(k) for n in ADDRESS_MAPS
                                                                             for k in keys])
        differences = []
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
