"""Server-side charts of mailbox fullness: inline SVG, no script, no style attributes."""
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from quota.selectors import usage_overview

register = template.Library()

BAR_WIDTH = 28
GAP = 6
CHART_HEIGHT = 120


def _overview(context, domain) -> dict:
    # The histogram and the top list of a page come from one cached overview, read once per
    # request: the one the view put in the context as `usage_overview`, or read here.
    given = context.get("usage_overview")
    if given is not None and given["domain_pk"] == getattr(domain, "pk", None):
        return given
    request = context["request"]
    memo = request.__dict__.setdefault("_usage_overviews", {})
    if getattr(domain, "pk", None) not in memo:
        memo[getattr(domain, "pk", None)] = usage_overview(request.user, domain)
    return memo[getattr(domain, "pk", None)]


# The two charts are built in Python rather than by inclusion templates: the dashboard, a
# domain's page and the quota page show them on every load, and as templates they were about
# a third of the dashboard's server time (the template engine resolves some 200 variables for
# them one by one). Every value that comes from the database or a translation goes through
# html.escape, as Django's autoescape would; tests/quota/test_charts.py renders the former
# templates and compares.

@register.simple_tag(takes_context=True)
def fullness_histogram_chart(context, domain=None) -> SafeString:
    """{% fullness_histogram_chart [domain] %}: an inline SVG histogram of the mailboxes of the
    user's scope (or of `domain`) by fill ratio, in tenths plus "≥ 100 %"; unlimited mailboxes
    are counted in the caption, not drawn."""
    counts = _overview(context, domain)["histogram"]
    labels = [f"{i * 10}–{i * 10 + 10} %" for i in range(10)] + ["≥ 100 %"]
    values = [int(counts[f"b{i}"]) for i in range(10)] + [int(counts["over"])]
    peak = max(values) or 1
    unlimited = int(counts["unlimited"])
    caption = escape(_("Mailboxes by fullness"))
    if unlimited:
        shown = ngettext("%(n)s unlimited mailbox not shown", "%(n)s unlimited mailboxes not shown", unlimited)
        caption += f" · {escape(shown % {'n': unlimited})}"
    bars = []
    for i, (label, value) in enumerate(zip(labels, values)):
        height = round(value / peak * CHART_HEIGHT)
        x, y, hot = i * (BAR_WIDTH + GAP), CHART_HEIGHT - height, i >= 9
        bars.append(
            f'\n    <g>\n      <title>{escape(label)}: {value}</title>\n'
            f'      <rect x="{x}" y="{y}" width="{BAR_WIDTH}" height="{height}" class="bar{" hot" if hot else ""}" '
            f'fill="{"#b42318" if hot else "#2f6fde"}"></rect>\n'
            f'      <text x="{x + 14}" y="{y - 3}" text-anchor="middle" font-size="10" fill="#1b1f24">{value}</text>\n'
            f'      <text x="{x + 14}" y="{CHART_HEIGHT + 12}" text-anchor="middle" font-size="8" fill="#4a5562">'
            f'{escape(label.replace(" %", ""))}</text>\n    </g>\n    ')
    width = len(bars) * (BAR_WIDTH + GAP)
    # Translated outside the f-string: xgettext does not look inside one.
    chart_label = escape(_("Histogram of mailbox fullness"))
    return mark_safe(
        f'<figure class="chart">\n  <figcaption>{caption}</figcaption>\n'
        f'  <svg role="img" aria-label="{chart_label}" '
        f'viewBox="0 -14 {width} {CHART_HEIGHT + 30}" width="100%" preserveAspectRatio="xMinYMin meet">\n'
        f'    {"".join(bars)}\n  </svg>\n</figure>\n')


@register.simple_tag(takes_context=True)
def top_fullest_table(context, domain=None) -> SafeString:
    """{% top_fullest_table [domain] %}: the ten fullest mailboxes of the user's scope (or of
    `domain`), as a list of addresses with a <meter> of their fill ratio."""
    rows = _overview(context, domain)["top"]
    if not rows:
        empty = escape(_("No mailbox with a quota yet."))
        return mark_safe(f'<p class="empty">{empty}</p>\n')
    items = "".join(
        f'\n  <li><span>{escape(row["address"])}</span>\n'
        f'    <meter min="0" max="1" low="0.8" high="0.95" optimum="0" value="{meter_value(row["fill_ratio"])}">'
        f'{percent(row["fill_ratio"])} %</meter>\n'
        f'    <span class="percent">{percent(row["fill_ratio"])} %</span></li>\n  '
        for row in rows)
    return mark_safe(f'\n<ol class="top-fullest">\n  {items}\n</ol>\n\n')


@register.filter
def percent(ratio):
    return "" if ratio is None else f"{ratio * 100:.0f}"


@register.filter
def meter_value(ratio):
    """<meter> wants a value within its max; over-quota mailboxes show as full."""
    return "0" if ratio is None else f"{min(ratio, 1.0):.3f}"
