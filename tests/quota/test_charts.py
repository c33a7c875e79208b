"""{% fullness_histogram_chart %} and {% top_fullest_table %} (quota/templatetags/quota_charts.py)
give exactly what the inclusion templates they replaced gave, in both languages, for empty,
ordinary and hostile overviews; and the pages that show them still do."""
import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from quota.templatetags.quota_charts import BAR_WIDTH, CHART_HEIGHT, GAP
from tests.quota.test_quota import data  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

# The charts as inclusion templates, before they were built in Python: the reference.
HISTOGRAM = Template("""{% load i18n %}<figure class="chart">
  <figcaption>{% translate "Mailboxes by fullness" %}{% if unlimited %} · {% blocktranslate count n=unlimited %}{{ n }} unlimited mailbox not shown{% plural %}{{ n }} unlimited mailboxes not shown{% endblocktranslate %}{% endif %}</figcaption>
  <svg role="img" aria-label="{% translate 'Histogram of mailbox fullness' %}" viewBox="0 -14 {{ width }} {{ height|add:30 }}" width="100%" preserveAspectRatio="xMinYMin meet">
    {% for bar in bars %}
    <g>
      <title>{{ bar.label }}: {{ bar.value }}</title>
      <rect x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar_width }}" height="{{ bar.height }}" class="bar{% if bar.hot %} hot{% endif %}" fill="{% if bar.hot %}#b42318{% else %}#2f6fde{% endif %}"></rect>
      <text x="{{ bar.x|add:14 }}" y="{{ bar.y|add:-3 }}" text-anchor="middle" font-size="10" fill="#1b1f24">{{ bar.value }}</text>
      <text x="{{ bar.x|add:14 }}" y="{{ height|add:12 }}" text-anchor="middle" font-size="8" fill="#4a5562">{{ bar.label|cut:" %" }}</text>
    </g>
    {% endfor %}
  </svg>
</figure>
""")
TOP = Template("""{% load i18n quota_charts %}{% if rows %}
<ol class="top-fullest">
  {% for row in rows %}
  <li><span>{{ row.address }}</span>
    <meter min="0" max="1" low="0.8" high="0.95" optimum="0" value="{{ row.fill_ratio|meter_value }}">{{ row.fill_ratio|percent }} %</meter>
    <span class="percent">{{ row.fill_ratio|percent }} %</span></li>
  {% endfor %}
</ol>
{% else %}<p class="empty">{% translate "No mailbox with a quota yet." %}</p>{% endif %}
""")
BUILT = Template("{% load quota_charts %}{% fullness_histogram_chart %}|{% top_fullest_table %}")


def reference(overview) -> str:
    """What the former inclusion tags rendered for this overview."""
    counts = overview["histogram"]
    labels = [f"{i * 10}–{i * 10 + 10} %" for i in range(10)] + ["≥ 100 %"]
    values = [counts[f"b{i}"] for i in range(10)] + [counts["over"]]
    peak = max(values) or 1
    bars = []
    for i, (label, value) in enumerate(zip(labels, values)):
        height = round(value / peak * CHART_HEIGHT)
        bars.append({"label": label, "value": value, "x": i * (BAR_WIDTH + GAP), "height": height,
                     "y": CHART_HEIGHT - height, "hot": i >= 9})
    histogram = HISTOGRAM.render(Context({
        "bars": bars, "width": len(bars) * (BAR_WIDTH + GAP), "height": CHART_HEIGHT, "bar_width": BAR_WIDTH,
        "unlimited": counts["unlimited"], "total": sum(values) + counts["unlimited"]}))
    return histogram + "|" + TOP.render(Context({"rows": overview["top"]}))


def overview(histogram: dict, top: list) -> dict:
    counts = {f"b{i}": 0 for i in range(10)} | {"over": 0, "unlimited": 0} | histogram
    return {"domain_pk": None, "histogram": counts, "top": top, "summary": None}


OVERVIEWS = [
    overview({}, []),
    overview({"b0": 7, "b3": 1234, "b9": 2, "over": 1, "unlimited": 1},
             [{"address": "full@a.example", "fill_ratio": 1.2}, {"address": "élan@exämple.org", "fill_ratio": 0.951},
              {"address": "half@a.example", "fill_ratio": 0.5}]),
    overview({"b5": 3, "unlimited": 5},
             [{"address": '<script>"x"&\'y\'</script>@a.example', "fill_ratio": 0.0}]),
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("case", range(len(OVERVIEWS)))
def test_built_charts_are_the_templates_charts(language, case):
    request = RequestFactory().get("/")
    with translation.override(language):
        built = BUILT.render(Context({"usage_overview": OVERVIEWS[case], "request": request}))
        # Django leaves {% translate %}'s text unescaped; the tags escape it too ("l'instant").
        assert built.replace("&#x27;", "'") == reference(OVERVIEWS[case]).replace("&#x27;", "'")
    assert "<script>" not in built
    if case == 2:
        assert "<span>&lt;script&gt;&quot;x&quot;&amp;&#x27;y&#x27;&lt;/script&gt;@a.example</span>" in built


def test_pages_show_the_charts(client, superadmin, data):  # noqa: F811 (fixture)
    client.force_login(superadmin)
    for url in ["/", f"/domains/{data['a'].pk}/", f"/quota/?domain={data['a'].pk}"]:
        html = client.get(url).content.decode()
        assert 'aria-label="Histogram of mailbox fullness"' in html and "1 unlimited mailbox not shown" in html, url
        assert '<span>full@a.example</span>' in html, url
