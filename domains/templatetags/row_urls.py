"""{% pk_url %}: the per-row links of long tables, without a full reverse() per link.

A 25-row mailbox table has 125 links; {% url %} spends about 45 µs on each, a fifth of
the page's server time. The URL of an object differs from its neighbour's only by the
primary key, so reverse each URL name once (with a marker number in place of the pk) and
fill the pk into the cached halves afterwards. The result is exactly what {% url %} gives.
"""
from functools import lru_cache
from html import escape

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

_MARKER = 9_007_199_254_740_993  # a pk no table reaches, and unlikely to occur elsewhere in a URL


@lru_cache(maxsize=256)
def _halves(name: str, script_prefix: str, urlconf) -> tuple[str, str]:
    url = reverse(name, args=[_MARKER], urlconf=urlconf)
    head, marker, tail = url.partition(str(_MARKER))
    if not marker:
        raise ValueError(f"{name} does not put its pk argument in the path as digits")
    return head, tail


@register.simple_tag
def pk_url(name: str, pk: int) -> str:
    """Same as {% url name pk %} for a URL whose only argument is an integer pk."""
    head, tail = _halves(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"


@lru_cache(maxsize=256)
def _fixed(name: str, script_prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def fixed_url(name: str) -> str:
    """Same as {% url name %} for a URL without arguments, reversed once per script prefix:
    the navigation of every page has a dozen of them."""
    return _fixed(name, get_script_prefix(), get_urlconf())


@receiver(setting_changed)
def _forget_on_urlconf_change(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _halves.cache_clear()
        _fixed.cache_clear()


@register.simple_tag
def active_toggle(url: str, active: bool, kind: str, pk: int, warning: str = "",
                  labels: dict[str, str] | None = None) -> SafeString:
    """{% active_toggle url active kind pk [warning] %}: a table row's activate/deactivate switch.

    It submits the page's one #toggle-form (domains/_toggle_form.html: CSRF token and the
    list to come back to) without JavaScript, and the view answers a deactivation with a
    confirmation page; htmx asks first with `warning` (what deactivating stops, when it stops
    mail), posts it confirmed and swaps in the row the view returns. The cell that names the
    row has the id `<kind>-<pk>-label`. Built here rather than by an {% include %} per row:
    the include was a quarter of a 25-row list's rendering. `labels` ("active", "inactive",
    "deactivate"): the words already translated, from a caller that builds many rows
    (table_rows.py)."""
    said = labels or {"active": _("Active"), "inactive": _("Inactive"), "deactivate": _("Deactivate?")}
    value = "0" if active else "1"
    confirm = f' hx-confirm="{escape(warning)} {escape(said["deactivate"])}"' if active and warning else ""
    url = escape(url)
    return mark_safe(
        f'<button type="submit" form="toggle-form" formaction="{url}" name="active" value="{value}" '
        f'hx-post="{url}" hx-vals=\'{{"active": "{value}", "confirmed": "1"}}\' hx-target="closest tr" '
        f'hx-swap="outerHTML"{confirm} '
        f'class="toggle{" on" if active else ""}" role="switch" aria-checked="{"true" if active else "false"}" '
        f'aria-describedby="{escape(kind)}-{int(pk)}-label">{escape(said["active" if active else "inactive"])}</button>')
