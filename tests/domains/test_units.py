"""Sizes mean what the admin typed (issue 14): one parser and formatter (domains/units.py),
exact round trips in the forms and the CLI, no finite value ever stored as 0 (= unlimited)."""
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from hypothesis import given, settings, strategies as st

from domains import services
from domains.forms import DomainForm, MailboxCreateForm, MailboxUpdateForm
from domains.models import Domain, Mailbox
from domains.units import MAX_SIZE, format_quota, format_size, parse_size
from tests.factories import DomainFactory, MailboxFactory, SuperadminFactory

MIB = 1024**2


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A French request activates French for the thread; later tests expect English."""
    yield
    translation.activate("en")


@pytest.mark.parametrize("lang, raw, expected", [
    ("en", "0", 0), ("en", "1K", 1024), ("en", "500M", 500 * MIB), ("en", "2g", 2 * 1024**3),
    ("en", "1.5G", 1536 * MIB), ("en", "10 MB", 10 * MIB), ("en", "1TiB", 1024**4), ("en", "7 B", 7),
    # A bare number is in MiB, the unit the forms show at the field.
    ("en", "2048", 2 * 1024**3), ("fr", "2048", 2 * 1024**3), ("en", "0.4", 419430),
    # French units, in either language.
    ("fr", "500 Mo", 500 * MIB), ("fr", "2 Go", 2 * 1024**3), ("fr", "2Gio", 2 * 1024**3), ("en", "2 Go", 2 * 1024**3),
    ("fr", "1 To", 1024**4), ("fr", "3 Ko", 3072), ("fr", "3 Kio", 3072), ("fr", "12 o", 12), ("fr", "5 Mio", 5 * MIB),
    # The decimal separator of the active language; its thousands separator between groups of three.
    ("en", "1,000M", 1000 * MIB), ("fr", "1,000M", MIB), ("fr", "1,5 Go", 1536 * MIB), ("fr", "1.5 Go", 1536 * MIB),
    ("fr", "1 000 Mo", 1000 * MIB), ("fr", "1\u00a0000 Mo", 1000 * MIB),
    ("en", "unlimited", 0), ("fr", "illimité", 0), ("fr", "unlimited", 0), (None, 7, 7),
])
def test_parse_size(lang, raw, expected):
    with translation.override(lang or "en"):
        assert parse_size(raw) == expected


@pytest.mark.parametrize("lang, raw, code", [
    ("en", "", "size_invalid"), ("en", "abc", "size_invalid"), ("en", "-1", "size_negative"),
    ("en", "5X", "size_invalid"), ("en", "1.2.3G", "size_invalid"), ("en", "9" * 30, "size_too_large"),
    # Not zero, but less than a byte: refused, never stored as 0 (= unlimited).
    ("en", "0.0000001K", "size_too_small"), ("en", "0.4 B", "size_too_small"),
    # Ambiguous in English: 1,5 is no thousands grouping.
    ("en", "1,5G", "size_invalid"), ("en", "1,00M", "size_invalid"), ("en", "1 000M", "size_invalid"),
    # Non-ASCII digits are refused, not read as the digits they look like.
    ("en", "٢G", "size_digits"), ("fr", "２ Go", "size_digits"), ("en", "1\u0966M", "size_digits"),
])
def test_parse_size_refuses(lang, raw, code):
    with translation.override(lang), pytest.raises(ValidationError) as exc:
        parse_size(raw)
    assert exc.value.code == code


def test_format_size_is_exact():
    with translation.override("en"):
        assert format_size(0) == "0"
        assert format_size(500 * MIB) == "500M"
        assert format_size(1536 * MIB) == "1.5G"
        assert format_size(100000000) == "100000000 B"  # not "95.4M", which reads back as 100034150
        assert format_quota(0) == "unlimited"
    with translation.override("fr"):
        assert format_size(1536 * MIB) == "1,5 Gio"
        assert format_size(100000000) == "100000000 o"
        assert format_quota(0) == "illimité"


@settings(max_examples=400, deadline=None)
@given(size=st.one_of(st.integers(min_value=0, max_value=MAX_SIZE),
                      st.integers(min_value=0, max_value=2**44).map(lambda n: n * 1024),
                      st.integers(min_value=0, max_value=2**30).map(lambda n: n * 10 * 1024)),
       lang=st.sampled_from(["en", "fr"]))
def test_parse_of_format_is_identity(size, lang):
    """Every byte count a form can show reads back as the same bytes, in both languages."""
    with translation.override(lang):
        assert parse_size(format_quota(size)) == size
        assert parse_size(format_size(size)) == size
        field_text = MailboxUpdateForm.base_fields["quota_bytes"].prepare_value(size)
        assert parse_size(field_text) == size


# --- forms and views ---------------------------------------------------------------------



def _mailbox_edit(client, mailbox, lang="en", **changes):
    url = reverse("domains:mailbox-update", args=[mailbox.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    shown = re.search(r'name="quota_bytes" value="([^"]*)"', page).group(1)
    data = {"name": mailbox.name, "quota_bytes": shown, "active": "on", **changes}
    return shown, client.post(url, data, HTTP_ACCEPT_LANGUAGE=lang)


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_saving_an_unchanged_mailbox_keeps_its_quota_bytes(client, lang):
    client.force_login(SuperadminFactory())
    mailbox = MailboxFactory(quota_bytes=100000000, name="Before")
    shown, response = _mailbox_edit(client, mailbox, lang, name="After")
    assert response.status_code == 302, response.content.decode()
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.quota_bytes) == ("After", 100000000)
    assert shown != "95.4M"


@pytest.mark.django_db
def test_a_mailbox_holding_the_domains_remaining_total_can_be_saved(client):
    client.force_login(SuperadminFactory())
    domain = DomainFactory(quota_bytes=1000000000, default_quota_bytes=1000000000)
    mailbox = MailboxFactory(domain=domain, quota_bytes=1000000000)
    _shown, response = _mailbox_edit(client, mailbox, name="Edited")
    assert response.status_code == 302, response.content.decode()
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.quota_bytes) == ("Edited", 1000000000)


@pytest.mark.django_db
def test_an_emptied_quota_keeps_the_current_value_and_never_becomes_unlimited(client):
    client.force_login(SuperadminFactory())
    mailbox = MailboxFactory(quota_bytes=3 * MIB)
    _shown, response = _mailbox_edit(client, mailbox, quota_bytes="")
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.quota_bytes == 3 * MIB


@pytest.mark.django_db
def test_an_emptied_domain_limit_keeps_the_current_value(client):
    superadmin = SuperadminFactory()
    client.force_login(superadmin)
    domain = DomainFactory(quota_bytes=10 * 1024**3, max_quota_bytes=MIB * 700, default_quota_bytes=MIB * 500)
    response = client.post(reverse("domains:domain-update", args=[domain.pk]), {
        "description": "x", "active": "on", "max_mailboxes": "0", "max_aliases": "0",
        "quota_bytes": "", "max_quota_bytes": "", "default_quota_bytes": ""})
    assert response.status_code == 302
    domain.refresh_from_db()
    assert (domain.quota_bytes, domain.max_quota_bytes, domain.default_quota_bytes) == (
        10 * 1024**3, 700 * MIB, 500 * MIB)


@pytest.mark.django_db
def test_unlimited_is_explicit_in_the_form():
    form = MailboxUpdateForm({"name": "", "quota_bytes": "unlimited", "active": "on"}, initial={"quota_bytes": MIB})
    assert form.is_valid() and form.cleaned_data["quota_bytes"] == 0
    form = MailboxUpdateForm({"name": "", "quota_bytes": "0.0000001K", "active": "on"}, initial={"quota_bytes": MIB})
    assert not form.is_valid() and form.errors.as_data()["quota_bytes"][0].code == "size_too_small"
    with translation.override("fr"):
        shown = MailboxUpdateForm(initial={"quota_bytes": 0})["quota_bytes"].value()
        assert MailboxUpdateForm.base_fields["quota_bytes"].prepare_value(shown) == "illimité"


@pytest.mark.django_db
def test_empty_quota_on_create_takes_the_domain_default(domain):
    domain.default_quota_bytes = 300 * MIB
    domain.save()
    form = MailboxCreateForm({"local_part": "new", "quota_bytes": "", "generate_password": "on"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["quota_bytes"] is None
    mailbox = services.mailbox_create(domain=domain, local_part="new", password="a long passphrase here",
                                      quota_bytes=form.cleaned_data["quota_bytes"], acting_user=SuperadminFactory())
    assert mailbox.quota_bytes == 300 * MIB


@pytest.mark.django_db
@pytest.mark.parametrize("lang, typed, expected", [
    ("en", "2048", 2 * 1024**3),    # was 2 KB: a bare number is MiB, as shown at the field
    ("fr", "500 Mo", 500 * MIB), ("fr", "2 Go", 2 * 1024**3), ("fr", "2Gio", 2 * 1024**3),
    ("en", "1,000M", 1000 * MIB),   # was 1 MiB
])
def test_domain_form_reads_units_like_people_type_them(lang, typed, expected):
    with translation.override(lang):
        form = DomainForm({"default_quota_bytes": typed, "quota_bytes": "0", "max_quota_bytes": "0",
                           "max_mailboxes": "0", "max_aliases": "0"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["default_quota_bytes"] == expected


@pytest.mark.django_db
def test_the_form_shows_the_unit_of_a_bare_number(client):
    client.force_login(SuperadminFactory())
    mailbox = MailboxFactory(quota_bytes=MIB)
    page = client.get(reverse("domains:mailbox-update", args=[mailbox.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert re.search(r'name="quota_bytes"[^>]*> <span class="unit">Mio</span>', page)


# --- CLI: the same parser ---------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["0.0000001K", "0.4 B", "٢G"])
def test_cli_refuses_sizes_that_would_become_unlimited_or_wrong(typed):
    Domain.objects.create(name="cli.example")
    with pytest.raises(CommandError):
        call_command("mailbox", "add", "x@cli.example", "--generate-password", "--quota", typed)
    assert not Mailbox.objects.exists()


@pytest.mark.django_db
def test_cli_bare_number_is_mib_like_the_forms():
    Domain.objects.create(name="cli.example")
    call_command("mailbox", "add", "x@cli.example", "--generate-password", "--quota", "0.4", stdout=open("/dev/null", "w"))
    assert Mailbox.objects.get().quota_bytes == 419430  # 0.4 MiB, never 0 (= unlimited)


@pytest.mark.django_db
def test_the_create_form_states_the_domain_limits_exactly(client):
    client.force_login(SuperadminFactory())
    domain = DomainFactory(quota_bytes=10**10, default_quota_bytes=100000000, max_quota_bytes=1536 * MIB)
    page = client.get(reverse("domains:mailbox-create", args=[domain.pk])).content.decode()
    assert "Default quota 100000000 B." in page and "At most 1.5G per mailbox." in page  # not "95.4 MB"
