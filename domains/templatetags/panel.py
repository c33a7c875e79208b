"""Small template helpers of the panel's pages."""
from functools import lru_cache
from html import escape

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains.effects import MAILBOX_DEACTIVATION
from domains.effects import deactivation_warning as _deactivation_warning
from domains.http import PAGE_SIZES

register = template.Library()


@register.filter
def deactivation_warning(obj) -> str:
    """{{ domain|deactivation_warning }}: what deactivating it stops (domains/effects.py)."""
    return _deactivation_warning(obj)


@register.simple_tag
def page_size_choices() -> tuple[int, ...]:
    """{% page_size_choices as page_sizes %}: the rows-per-page an admin may pick."""
    return PAGE_SIZES


@register.simple_tag
def last_login(when) -> str:
    """{% last_login mailbox.last_login_at %}: a mailbox's last IMAP/POP3 login (from Dovecot's
    last_login plugin) as a <time> in the current time zone and locale, or "never". What
    {{ when|date:... }} would give, built here because it sits in every row of the mailbox
    list, where an {% include %} per row cost more than the rest of the cell."""
    if not when:
        return format_html('<span class="muted small">{}</span>', _("never"))
    when = timezone.localtime(when)
    return format_html('<time datetime="{}" title="{}">{}</time>', date_format(when, "c"),
                       date_format(when, "DATETIME_FORMAT"), date_format(when, "SHORT_DATETIME_FORMAT"))


# The fixed words of a long table's rows, translated once per language rather than once per
# row: a 25-row mailbox table asked gettext for them 200 times, a sixth of its rendering.
ROW_LABELS = {
    "mailbox": {"used": gettext_lazy("Used"), "quota": gettext_lazy("Quota"),
                "last_login": gettext_lazy("Last login"), "no_mail_yet": gettext_lazy("no mail yet"),
                "unlimited": gettext_lazy("unlimited"), "password": gettext_lazy("Password"),
                "forwarding": gettext_lazy("Forwarding"), "delete": gettext_lazy("Delete"),
                "active": gettext_lazy("Active"), "inactive": gettext_lazy("Inactive"),
                "deactivate": gettext_lazy("Deactivate?"), "select": gettext_lazy("Select %(name)s"),
                "deactivation_warning": MAILBOX_DEACTIVATION},
    "domain": {"backup_mx": gettext_lazy("backup MX"), "mailboxes": gettext_lazy("Mailboxes"),
               "aliases": gettext_lazy("Aliases"), "quota": gettext_lazy("Quota"), "active": gettext_lazy("Active"),
               "inactive": gettext_lazy("Inactive"), "select": gettext_lazy("Select %(name)s")},
    "alias": {"catchall": gettext_lazy("catch-all"), "edit": gettext_lazy("Edit"), "delete": gettext_lazy("Delete"),
              "active": gettext_lazy("Active"), "inactive": gettext_lazy("Inactive"),
              "deactivate": gettext_lazy("Deactivate?"), "select": gettext_lazy("Select %(name)s")},
    "usage": {"used": gettext_lazy("Used"), "messages": gettext_lazy("Messages"), "quota": gettext_lazy("Quota"),
              "unlimited": gettext_lazy("unlimited"), "fullness": gettext_lazy("Fullness"),
              "last_update": gettext_lazy("Last update"), "no_mail_yet": gettext_lazy("no mail yet")},
    "audit": {"field": gettext_lazy("Field"), "before": gettext_lazy("Before"), "after": gettext_lazy("After")},
}


@lru_cache(maxsize=32)
def _row_labels(kind: str, language: str | None) -> dict[str, str]:
    with translation.override(language):
        return {name: str(label) for name, label in ROW_LABELS[kind].items()}


@receiver(setting_changed)
def _forget_labels_on_language_change(*, setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS"}:
        _row_labels.cache_clear()


@register.simple_tag
def row_labels(kind: str) -> dict[str, str]:
    """{% row_labels "mailbox" as t %}: ROW_LABELS[kind] in the current language, {{ t.used }}."""
    return _row_labels(kind, translation.get_language())


# The main navigation of every page: (URL name, label, highlighted on its own path only rather
# than on every path below it, shown to superadmins only).
MAIN_NAV = [
    ("domains:dashboard", gettext_lazy("Dashboard"), True, False),
    ("domains:domain-list", gettext_lazy("Domains"), False, False),
    ("domains:mailbox-list", gettext_lazy("Mailboxes"), False, False),
    ("domains:alias-list", gettext_lazy("Aliases"), False, False),
    ("domains:aliasdomain-list", gettext_lazy("Alias domains"), False, False),
    ("quota:list", gettext_lazy("Quota"), False, False),
    ("audit:log", gettext_lazy("Audit log"), False, False),
    ("accounts:admin-list", gettext_lazy("Admins"), False, True),
]


@lru_cache(maxsize=64)
def _main_nav(language: str | None, script_prefix: str, urlconf, superadmin: bool) -> tuple[tuple[str, str, bool], ...]:
    with translation.override(language):
        return tuple((escape(reverse(name, urlconf=urlconf)), escape(str(label)), exact)
                     for name, label, exact, superadmins_only in MAIN_NAV if superadmin or not superadmins_only)


@receiver(setting_changed)
def _forget_nav_on_change(*, setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "ROOT_URLCONF"}:
        _main_nav.cache_clear()


@register.simple_tag(takes_context=True)
def main_nav(context) -> SafeString:
    """{% main_nav %}: the links of the main navigation for the request's user, the current
    section marked aria-current="page". Built once per language, script prefix and role:
    as template code, its eight {% url %}s, translations and comparisons were a fifth of the
    page shell that every page renders."""
    path = context["request"].path
    links = _main_nav(translation.get_language(), get_script_prefix(), get_urlconf(),
                      bool(context["user"].is_superadmin))
    return mark_safe("".join(
        f'\n      <a href="{url}"{_CURRENT if (path == url if exact else path.startswith(url)) else ""}>{label}</a>'
        for url, label, exact in links))


_CURRENT = ' aria-current="page"'
