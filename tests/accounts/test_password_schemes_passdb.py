"""The panel's verdict equals the real Dovecot passdb's (SQL passdb, default_pass_scheme =
ARGON2ID, tests/mailstack/harness.py) for hashes imported from other panels, with and without
a {SCHEME} prefix."""
import pytest

from domains import services
from domains.models import Mailbox
from domains.password_schemes import UnverifiableHash, verify

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

USER = "imported@schemes.example"
PASSWORD = "pässwörd ☃ 密码"  # each hash below was made from it (doveadm pw / crypt(3))
STORED = [
    "{SSHA512}xuAGv0MVsZIbVC+42b1OdlNKvsixDuL/do6SJ+NtV36jFnNZ2zR4jDJm1+alRBZOBdnTd4fKOZs0eGD9edxSeQWrhB8=",
    "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$bOiyYUQPoI2T2buXtidAog$Nace3Y0Q4lW+pcnvm0BYVNmwE3c8iDNTaLxJsHLNpgU",
    "{PLAIN-MD5}732a767428e0f6e5cb8cd524cafdbb18",
    "{CRYPT}$y$j9T$F5Jx5fExrKuPp53xLKQ..1$YESCRYPT",
    "{SHA512-CRYPT}$6$SALT",
    "$6$SALT",  # no prefix: default_pass_scheme = ARGON2ID, so no password matches
    "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$YESCRYPT",
    "{NTLM}8846f7eaee8fb117ad06bdd830b7586c",
]


@pytest.fixture
def stored_hashes():
    """Real hashes of PASSWORD, made here by the same libraries Dovecot's formats come from."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # the C library's crypt(3), as Dovecot calls it

    from passlib.hash import sha512_crypt
    yescrypt = crypt.crypt(PASSWORD, "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$")
    sha512 = sha512_crypt.hash(PASSWORD)
    return [s.replace("$y$j9T$F5Jx5fExrKuPp53xLKQ..1$YESCRYPT", yescrypt).replace("$6$SALT", sha512) for s in STORED]


def panel(stored: str, password: str) -> bool:
    try:
        return verify(stored, password, user=USER)
    except UnverifiableHash:
        return False


def test_panel_and_dovecot_passdb_agree(mail_stack, stored_hashes):
    domain = services.domain_create(name="schemes.example", acting_user=None)
    mailbox = services.mailbox_create(domain=domain, local_part="imported", password="a placeholder passphrase",
                                      acting_user=None)
    verdicts = []
    for stored in stored_hashes:
        Mailbox.objects.filter(pk=mailbox.pk).update(password=stored)
        for attempt in (PASSWORD, "wrong"):
            verdicts.append((stored[:24], attempt, panel(stored, attempt), mail_stack.auth_test(USER, attempt)))
    assert [v for v in verdicts if v[2] != v[3]] == []
    assert any(v[2] for v in verdicts)
