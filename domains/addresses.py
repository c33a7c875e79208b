"""Normalizing and validating mail addresses and domain names.

Everything stored is lower-case ASCII: internationalized domain names are stored as
punycode (IDNA 2008 with UTS #46 mapping) and shown in Unicode.
"""
from __future__ import annotations

import functools

import re

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# One DNS label: letters, digits, hyphens inside; punycode labels start with xn--.
_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# RFC 5322 dot-atom text, without '/': what we accept in addresses elsewhere (destinations).
_LOCAL_PART_RE = re.compile(r"^[a-z0-9!#$%&'*+=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+=?^_`{|}~-]+)*$")
# The local parts of OUR mailboxes and aliases: the set the whole stack serves (docs/mailstack.md,
# "Address names"). Dovecot 2.3 and 2.4 refuse any login character outside their default
# auth_username_chars (letters, digits, "." "-" "_" and "@"); Postfix's smtpd refuses an address
# starting with "-" (allow_min_user = no); dots as in a dot-atom (RFC 5322 3.2.3). "+" is the
# default recipient_delimiter. Proven per character class by tests/mailstack/test_local_parts.py.
SERVED_LOCAL_PART_SQL_RE = r"^[a-z0-9_][a-z0-9_-]*(\.[a-z0-9_-]+)*$"
_SERVED_LOCAL_PART_RE = re.compile(SERVED_LOCAL_PART_SQL_RE)
# The same rules as SQL regular expressions, for the database check constraints.
DOMAIN_NAME_SQL_RE = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"

MAX_LOCAL_PART = 64
MAX_DOMAIN = 253
MAX_ADDRESS = 320


# Memoized: a 10,000-row import names its few domains tens of thousands of times, and each
# UTS #46 encoding costs about 0.2 ms. Only results are cached (a refusal is raised anew, in
# the language of the request at hand).
@functools.lru_cache(maxsize=4096)
def normalize_domain(value: str) -> str:
    """Return the lower-case ASCII (punycode) form of a domain name, or raise ValidationError."""
    name = (value or "").strip().rstrip(".")
    if not name:
        raise ValidationError(_("Enter a domain name."), code="domain_empty")
    if len(name) > MAX_DOMAIN:
        raise ValidationError(
            _("A domain name has at most %(max)d characters."),
            code="domain_too_long",
            params={"max": MAX_DOMAIN},
        )
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise idna_error(value, exc) from exc
    # UTS #46 maps the ideographic and fullwidth full stops (。．) to "." only now: the root's
    # trailing dot in those scripts is dropped like an ASCII one.
    ascii_name = ascii_name.lower().removesuffix(".")
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise ValidationError(
            _("“%(value)s” is not a fully qualified domain name (it needs a dot, as in example.org)."),
            code="domain_not_fqdn",
            params={"value": value},
        )
    if len(ascii_name) > MAX_DOMAIN:
        raise ValidationError(
            _("A domain name has at most %(max)d characters."),
            code="domain_too_long",
            params={"max": MAX_DOMAIN},
        )
    for label in labels:
        if not _LABEL_RE.match(label):
            raise ValidationError(
                _("“%(value)s” is not a valid domain name: the part “%(label)s” may only hold "
                  "letters, digits and inner hyphens, 1 to 63 characters."),
                code="domain_invalid",
                params={"value": value, "label": label},
            )
    if labels[-1].isdigit():
        raise ValidationError(
            _("“%(value)s” looks like an IP address, not a domain name."),
            code="domain_invalid",
            params={"value": value},
        )
    return ascii_name


# The idna library's errors, by message start, as our own translated reasons (its English text
# is never shown: "Codepoint U+0020 at position 8…" meant nothing to a French admin).
_IDNA_REASONS = (
    ("Empty", _("it has an empty part (two dots in a row, or a dot at the start)")),
    ("Label too long", _("a part between dots is longer than 63 characters")),
    ("Label must not start or end with a hyphen", _("a part between dots starts or ends with a hyphen")),
    ("Label has disallowed hyphens", _("a part has two hyphens in 3rd and 4th position, which is kept for "
                                       "punycode (xn--)")),
    ("Label begins with an illegal combining", _("a part starts with a combining accent")),
    ("Invalid A-label", _("a part starting with xn-- is not valid punycode")),
)
_CODEPOINT_RE = re.compile(r"U\+([0-9A-F]{4,6})")


def idna_error(value: str, exc: idna.IDNAError) -> ValidationError:
    """A translated ValidationError (code domain_invalid) for an error of the idna library."""
    message = str(exc)
    codepoint = _CODEPOINT_RE.search(message)
    if isinstance(exc, idna.IDNABidiError):
        reason = _("it mixes right-to-left and left-to-right letters in a way domain names forbid")
    elif codepoint:
        char = chr(int(codepoint.group(1), 16))
        shown = char if char.isprintable() and not char.isspace() else ""
        reason = (_("the character “%(char)s” (U+%(code)s) is not allowed in a domain name") if shown else
                  _("the blank or invisible character U+%(code)s is not allowed in a domain name")) % {
            "char": shown, "code": codepoint.group(1)}
    else:
        reason = next((text for start, text in _IDNA_REASONS if message.startswith(start)),
                      _("it is not a valid internationalized domain name"))
    return ValidationError(_("“%(value)s” is not a valid domain name: %(reason)s."), code="domain_invalid",
                           params={"value": value, "reason": reason})


def domain_display(ascii_name: str) -> str:
    """Unicode form of a stored punycode domain name, for display."""
    if "xn--" not in ascii_name:
        # Stored names are lower-case ASCII: without a punycode label there is nothing to
        # decode, and lists show thousands of names per second.
        return ascii_name
    try:
        return idna.decode(ascii_name)
    except idna.IDNAError:
        return ascii_name


def domain_label(ascii_name: str) -> str:
    """Unicode with the punycode after it, where an admin picks or decides on a domain
    (drop-downs, errors): look-alike letters cannot hide behind the Unicode form."""
    unicode_name = domain_display(ascii_name)
    return unicode_name if unicode_name == ascii_name else f"{unicode_name} ({ascii_name})"


def search_terms(query: str) -> list[str]:
    """What a list search matches: the query as typed and, if it holds non-ASCII letters, its
    stored (punycode) form, so "café" finds xn--caf-dma.example. Each dot-separated part of the
    domain side is encoded on its own, so whole labels match (a fragment such as "afé" cannot:
    punycode does not encode substrings)."""
    query = query.strip()
    if query.isascii():
        return [query] if query else []
    local, at, domain = query.rpartition("@") if "@" in query else ("", "", query)
    labels = []
    for label in domain.split("."):
        try:
            labels.append(idna.encode(label, uts46=True).decode("ascii") if label and not label.isascii() else label)
        except idna.IDNAError:
            labels.append(label)
    ascii_query = f"{local}{at}{'.'.join(labels)}"
    return [query] if ascii_query == query else [query, ascii_query]


def normalize_local_part(value: str) -> str:
    """Return the lower-case local part of one of our mailboxes or aliases, or raise
    ValidationError saying what is wrong: it must be in the served set (SERVED_LOCAL_PART_SQL_RE)
    and must not contain the recipient delimiter (settings.MAILADMIN_RECIPIENT_DELIMITER), which
    Postfix and Dovecot strip with what follows it (bob+shop@ is delivered to bob@)."""
    from django.conf import settings

    local = _normalize_any_local_part(value)
    delimiter = settings.MAILADMIN_RECIPIENT_DELIMITER
    if delimiter and any(char in local for char in delimiter):
        raise ValidationError(
            _("“%(value)s” contains “%(delimiter)s”, the recipient delimiter: mail to name%(delimiter)stag@ "
              "goes to name@, so an address name cannot contain it."),
            code="local_part_delimiter",
            params={"value": value, "delimiter": delimiter},
        )
    if not _SERVED_LOCAL_PART_RE.match(local):
        raise ValidationError(
            _("“%(value)s” cannot be served by the mail server: use lower-case letters, digits, dots, "
              "hyphens and underscores, not starting with a hyphen or a dot, no double or trailing dot."),
            code="local_part_unserved",
            params={"value": value},
        )
    return local


def _normalize_any_local_part(value: str) -> str:
    """The lower-case local part of any address (ours or elsewhere), RFC 5322 dot-atom."""
    local = (value or "").strip().lower()
    if not local:
        raise ValidationError(_("Enter the part before the @."), code="local_part_empty")
    if len(local) > MAX_LOCAL_PART:
        raise ValidationError(
            _("The part before the @ has at most %(max)d characters."),
            code="local_part_too_long",
            params={"max": MAX_LOCAL_PART},
        )
    if not _LOCAL_PART_RE.match(local):
        raise ValidationError(
            _("“%(value)s” is not a valid address name: use letters, digits and . _ - + "
              "(no spaces, no leading, trailing or double dots, no @ or /)."),
            code="local_part_invalid",
            params={"value": value},
        )
    return local


def split_address(value: str) -> tuple[str, str]:
    """Split and normalize an address into (local_part, ascii_domain)."""
    text = (value or "").strip()
    if text.count("@") != 1:
        raise ValidationError(
            _("“%(value)s” is not an e-mail address (expected name@domain)."),
            code="address_invalid",
            params={"value": value},
        )
    local, domain = text.split("@")
    return _normalize_any_local_part(local), normalize_domain(domain)


def normalize_address(value: str) -> str:
    """Lower-case, punycode form of a full address."""
    local, domain = split_address(value)
    return f"{local}@{domain}"


def address_display(address: str) -> str:
    """Show the domain part of a stored address in Unicode."""
    local, _sep, domain = address.rpartition("@")
    return f"{local}@{domain_display(domain)}"
