"""Server-side charts of mailbox fullness: inline SVG, no script, no style attributes."""
from django import template

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


@register.inclusion_tag("quota/components/fullness_histogram.html", takes_context=True)
def fullness_histogram_chart(context, domain=None):
    counts = _overview(context, domain)["histogram"]
    labels = [f"{i * 10}–{i * 10 + 10} %" for i in range(10)] + ["≥ 100 %"]
    values = [counts[f"b{i}"] for i in range(10)] + [counts["over"]]
    peak = max(values) or 1
    bars = []
    for i, (label, value) in enumerate(zip(labels, values)):
        height = round(value / peak * CHART_HEIGHT)
        bars.append({"label": label, "value": value, "x": i * (BAR_WIDTH + GAP), "height": height,
                     "y": CHART_HEIGHT - height, "hot": i >= 9})
    return {"bars": bars, "width": len(bars) * (BAR_WIDTH + GAP), "height": CHART_HEIGHT,
            "bar_width": BAR_WIDTH, "unlimited": counts["unlimited"], "total": sum(values) + counts["unlimited"]}


@register.inclusion_tag("quota/components/top_fullest.html", takes_context=True)
def top_fullest_table(context, domain=None):
    """The ten fullest mailboxes of the scope or domain: [{"address", "fill_ratio"}]."""
    return {"rows": _overview(context, domain)["top"]}


@register.filter
def percent(ratio):
    return "" if ratio is None else f"{ratio * 100:.0f}"


@register.filter
def meter_value(ratio):
    """<meter> wants a value within its max; over-quota mailboxes show as full."""
    return "0" if ratio is None else f"{min(ratio, 1.0):.3f}"
