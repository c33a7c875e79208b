"""{% mailbox_row %}, {% domain_row %} and {% alias_row %} (domains/templatetags/table_rows.py)
give exactly what the template partials they replaced gave, for every state a row can show,
in both languages."""
import datetime

import pytest
from django.db import connection
from django.template import Context, Template
from django.utils import timezone, translation

from domains.models import Alias, Domain, Mailbox
from tests.factories import AliasFactory, DomainFactory, MailboxFactory

pytestmark = pytest.mark.django_db

# The row as a template partial, before it was built in Python: the reference.
REFERENCE = Template("""{% load i18n row_urls quota_charts panel %}\
{% row_labels "mailbox" as t %}<tr id="mailbox-{{ mailbox.pk }}"{% if not mailbox.active %} class="inactive"{% endif %}>
  <td class="select-col"><input type="checkbox" name="pk" value="{{ mailbox.pk }}" aria-label="{% blocktranslate with name=mailbox.display_address %}Select {{ name }}{% endblocktranslate %}"></td>
  <td id="mailbox-{{ mailbox.pk }}-label"><a class="address" href="{% pk_url 'domains:mailbox-detail' mailbox.pk %}">{{ mailbox.display_address }}</a></td>
  <td>{{ mailbox.name }}</td>
  <td data-label="{{ t.used }}">{% with usage=mailbox.usage %}{{ usage.bytes|filesizeformat }}{% if mailbox.quota_bytes %} <meter min="0" max="1" low="0.8" high="0.95" optimum="0" value="{{ usage.fill_ratio|meter_value }}">{{ usage.fill_ratio|percent }} %</meter>{% endif %}{% if not usage.updated_at %} <span class="muted small">{{ t.no_mail_yet }}</span>{% endif %}{% endwith %}</td>
  <td data-label="{{ t.quota }}">{% if mailbox.quota_bytes %}{{ mailbox.quota_bytes|filesizeformat }}{% else %}{{ t.unlimited }}{% endif %}</td>
  <td data-label="{{ t.last_login }}">{% last_login mailbox.last_login_at %}</td>
  <td>{% pk_url 'domains:mailbox-set-active' mailbox.pk as url %}{% active_toggle url mailbox.active "mailbox" mailbox.pk mailbox|deactivation_warning %}</td>
  <td class="row-actions"><a href="{% pk_url 'domains:mailbox-password' mailbox.pk %}">{{ t.password }}</a><a href="{% pk_url 'domains:mailbox-forwarding' mailbox.pk %}">{{ t.forwarding }}</a><a class="danger" href="{% pk_url 'domains:mailbox-delete' mailbox.pk %}">{{ t.delete }}</a></td>
</tr>""")
BUILT = Template("{% load table_rows %}{% mailbox_row mailbox %}")


def used(mailbox, bytes_, messages=1):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE quota_usage SET bytes = %s, messages = %s WHERE username = %s",
                       [bytes_, messages, mailbox.address])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_built_row_is_the_partial_s_row(language):
    domain = DomainFactory(name="xn--exmple-cua.org")  # exämple.org: shown in Unicode
    rows = [
        MailboxFactory(domain=domain, local_part="plain", quota_bytes=0),
        MailboxFactory(domain=domain, local_part="quota", quota_bytes=100 * 1024**2, name='<b>"Bob" & co</b>'),
        MailboxFactory(domain=domain, local_part="off", quota_bytes=10 * 1024**2, active=False),
        MailboxFactory(domain=domain, local_part="seen", quota_bytes=5 * 1024**2,
                       last_login_at=datetime.datetime(2026, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)),
    ]
    used(rows[1], 97 * 1024**2)
    used(rows[3], 6 * 1024**2)  # over quota
    with translation.override(language):
        for mailbox in Mailbox.objects.filter(domain=domain).select_related("usage").order_by("address"):
            context = {"mailbox": mailbox}
            assert BUILT.render(Context(context)) == REFERENCE.render(Context(context)), mailbox.address


def test_row_without_a_usage_row_still_renders():
    mailbox = MailboxFactory(quota_bytes=0)
    mailbox.usage.delete()
    mailbox = Mailbox.objects.select_related("usage").get(pk=mailbox.pk)
    html = BUILT.render(Context({"mailbox": mailbox}))
    assert "0\xa0bytes" in html and "no mail yet" in html


# The domain row and its DNS badge as templates, before they were built in Python.
DOMAIN_REFERENCE = Template("""{% load i18n row_urls panel %}\
{% row_labels "domain" as t %}<tr id="domain-{{ domain.pk }}"{% if not domain.active %} class="inactive"{% endif %}>
  {% if user.is_superadmin %}<td class="select-col"><input type="checkbox" name="pk" value="{{ domain.pk }}" aria-label="{% blocktranslate with name=domain.display_name %}Select {{ name }}{% endblocktranslate %}"></td>{% endif %}
  <td id="domain-{{ domain.pk }}-label"><a href="{% pk_url 'domains:domain-detail' domain.pk %}">{{ domain.display_name }}</a>
    {% if domain.backup_mx %}<span class="badge">{{ t.backup_mx }}</span>{% endif %}
    {% if domain.description %}<div class="muted small">{{ domain.description }}</div>{% endif %}</td>
  <td data-label="{{ t.mailboxes }}">{{ domain.mailbox_count }}{% if domain.max_mailboxes %} / {{ domain.max_mailboxes }}{% endif %}</td>
  <td data-label="{{ t.aliases }}">{{ domain.alias_count }}{% if domain.max_aliases %} / {{ domain.max_aliases }}{% endif %}</td>
  <td data-label="{{ t.quota }}">{{ domain.quota_allocated|filesizeformat }}{% if domain.quota_bytes %} / {{ domain.quota_bytes|filesizeformat }}
    <meter min="0" max="{{ domain.quota_bytes }}" value="{{ domain.quota_allocated }}" high="{{ domain.quota_bytes }}">{{ domain.quota_allocated|filesizeformat }}</meter>{% endif %}</td>
  <td>{% if domain.dns_status %}<a class="dns-badge dns-badge--{{ domain.dns_status }}" href="{% pk_url 'dnscheck:domain' domain.pk %}" title="{% blocktranslate with when=domain.dns_checked_at|date:'DATETIME_FORMAT' %}DNS checked {{ when }}{% endblocktranslate %}">{% translate "DNS" %}: {{ label }}</a>{% else %}<a class="dns-badge dns-badge--none" href="{% pk_url 'dnscheck:domain' domain.pk %}">{% translate "DNS: not checked" %}</a>{% endif %}</td>
  <td>{% if user.is_superadmin %}{% pk_url 'domains:domain-set-active' domain.pk as url %}{% active_toggle url domain.active "domain" domain.pk domain|deactivation_warning %}{% elif domain.active %}{{ t.active }}{% else %}{{ t.inactive }}{% endif %}</td>
</tr>""")
DOMAIN_BUILT = Template("{% load table_rows %}{% domain_row domain user %}")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_built_domain_row_is_the_partial_s_row(language):
    from dnscheck.checks import STATUS_CHOICES
    from dnscheck.models import DnsCheckRun
    from dnscheck.selectors import with_dns_status
    from domains.selectors import domain_list
    from tests.factories import AdminFactory

    plain = DomainFactory(name="plain.example")
    DomainFactory(name="xn--exmple-cua.org", backup_mx=True, description='<i>"Ours" & theirs</i>', max_mailboxes=10,
                  max_aliases=5, quota_bytes=10 * 1024**3, active=False)
    MailboxFactory(domain=plain, quota_bytes=1024**2)
    DnsCheckRun.objects.create(domain=plain, status="warning")
    superadmin = AdminFactory(role="superadmin")
    domain_admin = AdminFactory(domains=list(Domain.objects.all()))
    labels = dict(STATUS_CHOICES)
    with translation.override(language):
        for user in (superadmin, domain_admin):
            for domain in with_dns_status(domain_list(user)):
                context = {"domain": domain, "user": user, "label": labels.get(domain.dns_status)}
                assert DOMAIN_BUILT.render(Context(context)) == DOMAIN_REFERENCE.render(Context(context)), domain.name


# The alias row as a template partial (alias_list.html#alias-row), before it was built in Python.
ALIAS_REFERENCE = Template("""{% load i18n row_urls panel %}\
{% pk_url 'domains:alias-update' alias.pk as edit_url %}{% with shown=alias.display_address %}{% row_labels "alias" as t %}\
<tr id="alias-{{ alias.pk }}"{% if not alias.active %} class="inactive"{% endif %}>
  <td class="select-col"><input type="checkbox" name="pk" value="{{ alias.pk }}" aria-label="{% blocktranslate with name=alias.display_address %}Select {{ name }}{% endblocktranslate %}"></td>
  <td id="alias-{{ alias.pk }}-label">
    <a href="{{ edit_url }}">{% if alias.is_catchall %}<span class="badge catchall">{{ t.catchall }}</span> {% endif %}{{ shown }}</a>
  </td>
  <td class="destinations">
    {% for destination in alias.display_destinations|slice:":3" %}<span class="address">{{ destination }}</span>{% if not forloop.last %}, {% endif %}{% endfor %}
    {% if alias.destinations|length > 3 %}<span class="muted">{% blocktranslate count counter=alias.destinations|length|add:"-3" %}and {{ counter }} more{% plural %}and {{ counter }} more{% endblocktranslate %}</span>{% endif %}
  </td>
  <td>{{ alias.modified|date:"SHORT_DATETIME_FORMAT" }}</td>
  <td>
    {% pk_url 'domains:alias-set-active' alias.pk as toggle_url %}
    {% active_toggle toggle_url alias.active "alias" alias.pk alias|deactivation_warning %}
  </td>
  <td class="row-actions">
    <a href="{{ edit_url }}">{{ t.edit }}</a>
    <a href="{% pk_url 'domains:alias-delete' alias.pk %}" class="danger">{{ t.delete }}</a>
  </td>
</tr>{% endwith %}""")
ALIAS_BUILT = Template("{% load table_rows %}{% alias_row alias %}")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_built_alias_row_is_the_partial_s_row(language):
    domain = DomainFactory(name="xn--exmple-cua.org")  # exämple.org: shown in Unicode
    many = [f"d{n}@elsewhere.example" for n in range(5)]
    AliasFactory(domain=domain, address="@xn--exmple-cua.org", destinations=["postmaster@xn--exmple-cua.org"])
    AliasFactory(domain=domain, address="off@xn--exmple-cua.org", active=False, destinations=many[:2])
    AliasFactory(domain=domain, address="three@xn--exmple-cua.org", destinations=many[:3])
    AliasFactory(domain=domain, address="four@xn--exmple-cua.org",
                 destinations=["bjørn@xn--tst-qla.example", *many[:3]])
    AliasFactory(domain=domain, address="five@xn--exmple-cua.org", destinations=many, active=False)
    AliasFactory(domain=domain, address="odd@xn--exmple-cua.org", destinations=["o'brien&co{x}|y@elsewhere.example"])
    # A fixed moment late in the UTC evening: the row shows it in the current time zone.
    late = datetime.datetime(2026, 3, 4, 23, 6, tzinfo=datetime.timezone.utc)
    Alias.objects.filter(domain=domain).update(modified=late)
    aliases = list(Alias.objects.filter(domain=domain).select_related("domain").order_by("address"))
    assert {len(a.destinations) for a in aliases} == {1, 2, 3, 4, 5}
    with translation.override(language):
        for zone in ("UTC", "Europe/Paris"):
            with timezone.override(zone):
                for alias in aliases:
                    context = {"alias": alias}
                    built, reference = ALIAS_BUILT.render(Context(context)), ALIAS_REFERENCE.render(Context(context))
                    assert built == reference, alias.address
