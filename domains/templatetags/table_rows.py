"""{% mailbox_row mailbox %}, {% domain_row domain user %} and {% alias_row alias %}: rows of
the biggest tables, built in Python.

The mailbox list is the page admins load most and the one that must hold 200 requests a
second (issue 18); as a template partial, its 25 rows were about half of the page's
server time (the template engine resolves each of a row's ~40 variables and tags one by
one). Here a row is one f-string: every value that comes from the database or a
translation goes through html.escape (what Django's escape does), the fixed words are
translated once per language (panel.ROW_LABELS), and the result is what the partial gave:
tests/domains/test_table_rows.py renders both and compares them. The partials
`mailbox_list.html#mailbox-row`, `domain_list.html#domain-row` and `alias_list.html#alias-row`
stay the one place a row is asked for, by the list and by the htmx swap after a toggle.
"""
from html import escape

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format, localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import ngettext

from dnscheck.templatetags.dnscheck_tags import dns_badge
from domains.effects import deactivation_warning
from quota.templatetags.quota_charts import meter_value, percent

from .panel import last_login, row_labels
from .row_urls import active_toggle, pk_url

register = template.Library()


@register.simple_tag
def mailbox_row(mailbox) -> SafeString:
    """The <tr> of `mailbox` (with its `usage` row selected alongside) in the mailbox table."""
    labels = row_labels("mailbox")
    t = {name: escape(label) for name, label in labels.items()}
    pk = int(mailbox.pk)
    address = mailbox.display_address
    usage = getattr(mailbox, "usage", None)  # RelatedObjectDoesNotExist is an AttributeError
    used = filesizeformat(usage.bytes if usage is not None else "")
    if mailbox.quota_bytes:
        ratio = usage.fill_ratio if usage is not None else None
        used += (f' <meter min="0" max="1" low="0.8" high="0.95" optimum="0" value="{meter_value(ratio)}">'
                 f'{percent(ratio)} %</meter>')
    if usage is None or not usage.updated_at:
        used += f' <span class="muted small">{t["no_mail_yet"]}</span>'
    quota = filesizeformat(mailbox.quota_bytes) if mailbox.quota_bytes else t["unlimited"]
    warning = labels["deactivation_warning"] % {"address": address} if mailbox.active else ""
    toggle = active_toggle(pk_url("domains:mailbox-set-active", pk), mailbox.active, "mailbox", pk, warning, labels)
    shown = escape(address)
    inactive = "" if mailbox.active else ' class="inactive"'
    return mark_safe(
        f'<tr id="mailbox-{pk}"{inactive}>\n'
        f'  <td class="select-col"><input type="checkbox" name="pk" value="{pk}" '
        f'aria-label="{escape(labels["select"] % {"name": address})}"></td>\n'
        f'  <td id="mailbox-{pk}-label"><a class="address" href="{pk_url("domains:mailbox-detail", pk)}">{shown}</a></td>\n'
        f'  <td>{escape(mailbox.name)}</td>\n'
        f'  <td data-label="{t["used"]}">{used}</td>\n'
        f'  <td data-label="{t["quota"]}">{quota}</td>\n'
        f'  <td data-label="{t["last_login"]}">{last_login(mailbox.last_login_at)}</td>\n'
        f'  <td>{toggle}</td>\n'
        f'  <td class="row-actions"><a href="{pk_url("domains:mailbox-password", pk)}">{t["password"]}</a>'
        f'<a href="{pk_url("domains:mailbox-forwarding", pk)}">{t["forwarding"]}</a>'
        f'<a class="danger" href="{pk_url("domains:mailbox-delete", pk)}">{t["delete"]}</a></td>\n'
        '</tr>')


@register.simple_tag
def domain_row(domain, user) -> SafeString:
    """The <tr> of `domain` (annotated by selectors.domain_list, and for its DNS badge by
    dnscheck.selectors.with_dns_status) in the domain table, as `user` may act on it: only a
    superadmin selects rows and switches a domain on or off."""
    labels = row_labels("domain")
    t = {name: escape(label) for name, label in labels.items()}
    pk = int(domain.pk)
    name = domain.display_name
    superadmin = getattr(user, "is_superadmin", False)
    select = (f'<td class="select-col"><input type="checkbox" name="pk" value="{pk}" '
              f'aria-label="{escape(labels["select"] % {"name": name})}"></td>' if superadmin else "")
    backup = f'<span class="badge">{t["backup_mx"]}</span>' if domain.backup_mx else ""
    description = f'<div class="muted small">{escape(domain.description)}</div>' if domain.description else ""
    mailboxes = f'{getattr(domain, "mailbox_count", "")}{f" / {domain.max_mailboxes}" if domain.max_mailboxes else ""}'
    aliases = f'{getattr(domain, "alias_count", "")}{f" / {domain.max_aliases}" if domain.max_aliases else ""}'
    allocated = getattr(domain, "quota_allocated", "")
    quota = filesizeformat(allocated)
    if domain.quota_bytes:
        quota += (f' / {filesizeformat(domain.quota_bytes)}\n    <meter min="0" max="{domain.quota_bytes}" '
                  f'value="{allocated}" high="{domain.quota_bytes}">{filesizeformat(allocated)}</meter>')
    if superadmin:
        state = active_toggle(pk_url("domains:domain-set-active", pk), domain.active, "domain", pk,
                              deactivation_warning(domain))
    else:
        state = t["active"] if domain.active else t["inactive"]
    inactive = "" if domain.active else ' class="inactive"'
    return mark_safe(
        f'<tr id="domain-{pk}"{inactive}>\n'
        f'  {select}\n'
        f'  <td id="domain-{pk}-label"><a href="{pk_url("domains:domain-detail", pk)}">{escape(name)}</a>\n'
        f'    {backup}\n'
        f'    {description}</td>\n'
        f'  <td data-label="{t["mailboxes"]}">{mailboxes}</td>\n'
        f'  <td data-label="{t["aliases"]}">{aliases}</td>\n'
        f'  <td data-label="{t["quota"]}">{quota}</td>\n'
        f'  <td>{dns_badge(domain)}</td>\n'
        f'  <td>{state}</td>\n'
        '</tr>')


# Shown in full up to this many destinations, then "and N more".
ALIAS_DESTINATIONS_SHOWN = 3


@register.simple_tag
def alias_row(alias) -> SafeString:
    """The <tr> of `alias` in the alias table: its address (with a catch-all badge), its first
    destinations, when it was modified, its switch and its links. As a template partial the
    25 rows of /aliases/ took 8-10 ms of the page's server time (in-process, 24-28 ms a page);
    built here they take 3-4.5 ms (21-23 ms a page)."""
    labels = row_labels("alias")
    t = {name: escape(label) for name, label in labels.items()}
    pk = int(alias.pk)
    address = alias.display_address
    edit_url = pk_url("domains:alias-update", pk)
    badge = f'<span class="badge catchall">{t["catchall"]}</span> ' if alias.is_catchall else ""
    destinations = ", ".join(f'<span class="address">{escape(destination)}</span>'
                             for destination in alias.display_destinations[:ALIAS_DESTINATIONS_SHOWN])
    hidden = len(alias.destinations) - ALIAS_DESTINATIONS_SHOWN
    more = ""
    if hidden > 0:
        more = ngettext("and %(counter)s more", "and %(counter)s more", hidden) % {"counter": localize(hidden)}
        more = f'<span class="muted">{escape(more)}</span>'
    # What {{ alias.modified|date:"SHORT_DATETIME_FORMAT" }} gives: the filter expects local time.
    modified = ""
    if alias.modified:
        modified = escape(date_format(template_localtime(alias.modified), "SHORT_DATETIME_FORMAT"))
    toggle = active_toggle(pk_url("domains:alias-set-active", pk), alias.active, "alias", pk,
                           deactivation_warning(alias), labels)
    inactive = "" if alias.active else ' class="inactive"'
    return mark_safe(
        f'<tr id="alias-{pk}"{inactive}>\n'
        f'  <td class="select-col"><input type="checkbox" name="pk" value="{pk}" '
        f'aria-label="{escape(labels["select"] % {"name": address})}"></td>\n'
        f'  <td id="alias-{pk}-label">\n'
        f'    <a href="{edit_url}">{badge}{escape(address)}</a>\n'
        '  </td>\n'
        '  <td class="destinations">\n'
        f'    {destinations}\n'
        f'    {more}\n'
        '  </td>\n'
        f'  <td>{modified}</td>\n'
        '  <td>\n'
        '    \n'
        f'    {toggle}\n'
        '  </td>\n'
        '  <td class="row-actions">\n'
        f'    <a href="{edit_url}">{t["edit"]}</a>\n'
        f'    <a href="{pk_url("domains:alias-delete", pk)}" class="danger">{t["delete"]}</a>\n'
        '  </td>\n'
        '</tr>')
