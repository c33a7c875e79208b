"""{% audit_row %} (audit/templatetags/audit_labels.py) gives exactly what the template code it
replaced gave, for every state an audit entry's row can show, in both languages and outside
UTC; values from the database come out escaped."""
import datetime
import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = reverse("audit:log")

# The row as template code, before it was built in Python: the reference.
REFERENCE = Template("""{% load i18n audit_labels %}<tr class="entry">
        <td><time datetime="{{ entry.created|date:'c' }}">{{ entry.created|date:"SHORT_DATETIME_FORMAT" }}</time></td>
        <td>{{ entry.actor_label }}</td>
        <td><span class="action" title="{{ entry.action }}">{{ entry.action|action_label }}</span></td>
        <td>{{ entry.object_display }}{% if entry.domain_display and entry.domain_display != entry.object_display %}<br><span class="muted">{{ entry.domain_display }}</span>{% endif %}</td>
        <td>
          {% if entry.changes %}
          <table class="diff">
            <thead class="visually-hidden"><tr><th scope="col">{% translate "Field" %}</th><th scope="col">{% translate "Before" %}</th><th scope="col">{% translate "After" %}</th></tr></thead>
            <tbody>
            {% for change in entry.changes %}
              <tr><th scope="row">{{ change.field }}</th><td class="before">{% if change.before %}<del>{{ change.before }}</del>{% endif %}</td><td class="after">{% if change.after %}<ins>{{ change.after }}</ins>{% endif %}</td></tr>
            {% endfor %}
            </tbody>
          </table>
          {% else %}<span class="muted">—</span>{% endif %}
        </td>
      </tr>""")
BUILT = Template("{% load audit_labels %}{% audit_row entry %}")


def _entry(**fields) -> AuditEntry:
    fields = {"actor_label": "alice", "action": "mailbox.update", "domain_name": "example.org",
              "object_type": "mailbox", "object_repr": "bob@example.org", **fields}
    return AuditEntry.objects.create(**fields)


def _rows(client, language) -> list[AuditEntry]:
    """The entries as the audit page prepares them (changes, object and domain display), in `language`."""
    response = client.get(URL, {"page_size": 100}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return list(response.context["page"].object_list)


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Chatham"])  # +12:45 / +13:45: another day, odd offset
@pytest.mark.parametrize("language", ["en", "fr"])
def test_built_row_is_the_template_s_row(client, superadmin, language, zone, settings):
    settings.TIME_ZONE = zone
    _entry(action="mailbox.create", before=None,
           after={"address": "bob@example.org", "name": "Bob", "quota_bytes": 1024**3, "active": True})
    _entry(before={"quota_bytes": 0, "name": "Old", "destinations": ["a@x.example", "b@xn--exmple-cua.org"]},
           after={"quota_bytes": 5 * 1024**2, "name": "", "destinations": []})  # unlimited, empty "after"
    _entry(action="alias.delete", object_repr="sales@xn--exmple-cua.org", domain_name="xn--exmple-cua.org",
           before={"destinations": ["c@x.example"], "active": False}, after=None)
    _entry(action="dns.check", object_repr="example.org", before=None, after=None)  # no changes; object = domain
    _entry(action="admin.update", object_repr="newbie", domain_name="", before={"role": "domain_admin", "id": 3},
           after={"role": "superadmin", "id": 3})  # no domain; hidden field only on one side
    _entry(action="mailbox.frobnicate", actor_label="cli", before={"some_field": "x"}, after={"some_field": "y"})
    _entry(action="dkim.generate", object_repr="sel1 example.org", before={}, after={})  # empty dicts: no changes
    AuditEntry.objects.update(created=datetime.datetime(2026, 1, 31, 11, 30, 5, 123456, tzinfo=datetime.UTC))
    client.force_login(superadmin)
    with timezone.override(zone), translation.override(language):
        entries = _rows(client, language)
        assert len(entries) == 7
        assert {bool(entry.changes) for entry in entries} == {True, False}
        for entry in entries:
            context = {"entry": entry}
            built, reference = BUILT.render(Context(context)), REFERENCE.render(Context(context))
            # The one allowed difference: fixed words go through html.escape, {% translate %} leaves them be.
            assert built.replace("&#x27;", "'") == reference.replace("&#x27;", "'"), entry.action


def test_the_page_shows_the_built_rows_in_the_reader_s_language(client, superadmin):
    _entry(before={"name": "Old"}, after={"name": "New"})
    client.force_login(superadmin)
    for language, words in (("fr", ("Champ", "Avant", "Après", "Boîte modifiée")),
                            ("en", ("Field", "Before", "After", "Mailbox changed")), ("fr", ("Champ",))):
        body = client.get(URL, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert body.count('<tr class="entry">') == 1
        assert all(word in body for word in words), language


HOSTILE = "<script>\"x\"&'y'</script>"
ESCAPED = "&lt;script&gt;&quot;x&quot;&amp;&#x27;y&#x27;&lt;/script&gt;"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_hostile_values_are_escaped(client, superadmin, language):
    """Every free-text column of an entry (written around the services, as a later feature or a
    bad import could) comes out escaped: who, the action code, the object, the domain, field
    names and values before and after."""
    _entry(actor_label=HOSTILE, action=HOSTILE, object_repr=HOSTILE, domain_name=HOSTILE + "d",
           before={HOSTILE: HOSTILE, "name": [HOSTILE]}, after={HOSTILE: HOSTILE + "2", "name": {HOSTILE: HOSTILE}})
    client.force_login(superadmin)
    for headers in ({}, {"HX-Request": "true", "HX-Target": "audit-table"}):
        body = client.get(URL, headers=headers, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "<script>\"x\"" not in body
        row = body[body.index('<tr class="entry">'):]
        row = row[:row.index("\n      </tr>")]
        assert f'title="{ESCAPED}"' in row  # the action code, inside its attribute
        assert f"<td>{ESCAPED}</td>" in row  # who
        assert f'<td>{ESCAPED}<br><span class="muted">{ESCAPED}d</span></td>' in row  # object, domain
        assert f'<del>{ESCAPED}</del>' in row and f'<ins>{ESCAPED}2</ins>' in row
        assert row.count(ESCAPED) == 11  # 6 above, and the field names and the values inside lists and dicts
        assert set(re.findall(r"<(\w+)", row)) == {"tr", "td", "time", "span", "br", "table", "thead", "tbody", "th",
                                                  "del", "ins"}
