"""The pure routing model (domains/routing.py): Postfix's rules on plain rows."""
from domains.routing import (AliasDomainRow, AliasRow, DomainRow, MailboxRow, Model, Rows, Settings, problems,
                             strip_extension)


def world(**extra):
    rows = Rows.of(
        domains=[DomainRow("example.org"), DomainRow("relay.example", backup_mx=True), DomainRow("off.example", active=False)],
        alias_domains=[AliasDomainRow("example.net", "example.org")],
        mailboxes=[MailboxRow("john@example.org"), MailboxRow("jane@example.org"),
                   MailboxRow("old@example.org", active=False), MailboxRow("full@example.org", quota_bytes=10, used_bytes=10)],
        aliases=[AliasRow("team@example.org", ("john@example.org", "jane@example.org")),
                 AliasRow("@example.org", ("jane@example.org",)),
                 AliasRow("gone@example.org", ("john@example.org",), active=False),
                 AliasRow("old@example.org", ("out@remote.example",), forwarding=True)] + extra.get("aliases", []),
    )
    return Model(rows, extra.get("settings", Settings()))


def test_mailbox_alias_catchall_and_alias_domain():
    m = world()
    assert m.resolve("john@example.org").mailboxes == ["john@example.org"]
    assert sorted(m.resolve("team@example.org").mailboxes) == ["jane@example.org", "john@example.org"]
    assert m.resolve("nobody@example.org").mailboxes == ["jane@example.org"]
    assert m.resolve("john@example.net").mailboxes == ["john@example.org"]
    assert m.resolve("anyone@example.net").mailboxes == ["jane@example.org"]
    assert m.resolve("x@remote.example").rcpt == "relay_denied"
    assert m.resolve("x@relay.example").outcomes[0].result == "relayed"
    assert m.resolve("full@example.org").outcomes[0].result == "over_quota"


def test_inactive_is_refused_at_rcpt_never_the_catchall():
    m = world()
    for address in ("old@example.org", "gone@example.org", "old@example.net", "gone@example.net"):
        resolution = m.resolve(address)
        assert resolution.rcpt == "disabled", address
        assert resolution.mailboxes == []
    # Reached through an alias, the inactive mailbox stops there: no forwarding, no catch-all.
    m = world(aliases=[AliasRow("via@example.org", ("old@example.org",))])
    assert [(o.address, o.result) for o in m.resolve("via@example.org").outcomes] == [("old@example.org", "inactive")]


def test_loop_is_a_recursion_limit_error_naming_the_cycle():
    m = world(aliases=[AliasRow("x@example.org", ("y@example.org",)), AliasRow("y@example.org", ("x@example.org",))])
    resolution = m.resolve("x@example.org")
    assert resolution.error == "recursion_limit"
    assert resolution.cycle == ["x@example.org", "y@example.org", "x@example.org"]
    assert [p.code for p in problems(m, ["x@example.org"])] == ["loop"]


def test_address_expanding_into_itself_stops_once():
    m = world(aliases=[AliasRow("john@example.org", ("john@example.org", "jane@example.org"), forwarding=True)])
    assert sorted(m.resolve("john@example.org").mailboxes) == ["jane@example.org", "john@example.org"]
    assert problems(m, ["john@example.org"]) == []


def test_self_forward_through_an_alias_domain_ends_in_the_alias_domain():
    m = world(aliases=[AliasRow("john@example.org", ("john@example.net",), forwarding=True)])
    assert [o.result for o in m.resolve("john@example.org").outcomes] == ["alias_domain_unresolved"]
    assert [p.code for p in problems(m, ["john@example.org"])] == ["alias_domain_unresolved"]


def test_expansion_limit():
    members = tuple(f"u{i}@remote.example" for i in range(600))
    m = world(aliases=[AliasRow("a@example.org", members), AliasRow("b@example.org", members),
                       AliasRow("all@example.org", ("a@example.org", "b@example.org"))])
    assert m.resolve("a@example.org").error == ""
    assert m.resolve("all@example.org").error == "expansion_limit"


def test_recipient_delimiter_propagates_the_extension():
    m = world(settings=Settings(recipient_delimiter="+"))
    assert m.resolve("john+news@example.org").mailboxes == ["john@example.org"]
    assert [o.address for o in m.resolve("team+x@example.org").outcomes] == ["john+x@example.org", "jane+x@example.org"]
    assert m.resolve("old+x@example.org").rcpt == "disabled"
    assert strip_extension("owner-list@example.org", "-") is None
    assert strip_extension("a-b+c@d", "+-") == ("a@d", "-b+c")


def test_send_as():
    m = world(aliases=[AliasRow("fw@example.org", ("jane@example.org",), forwarding=True)])
    m.rows.mailboxes["fw@example.org"] = MailboxRow("fw@example.org")
    assert m.senders("john@example.org") == ["john@example.org"]
    assert m.senders("john@example.net") == ["john@example.org"]
    assert m.senders("team@example.net") == ["jane@example.org", "john@example.org"]
    assert m.senders("fw@example.org") == ["fw@example.org"]   # the forwarding grants jane nothing
    assert m.senders("nobody@example.org") == []                # nor does the catch-all
    assert m.senders("old@example.org") == []
