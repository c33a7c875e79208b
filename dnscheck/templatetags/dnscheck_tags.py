from html import escape

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from domains.templatetags.row_urls import pk_url

from ..checks import STATUS_CHOICES
from ..models import DnsCheckRun

register = template.Library()
_LABELS = dict(STATUS_CHOICES)


@register.simple_tag
def dns_badge(domain) -> SafeString:
    """{% dns_badge domain %}: the domain's latest DNS status, linking to its DNS page. Annotate
    the list with dnscheck.selectors.with_dns_status() first; otherwise this costs one query per
    domain. Built in Python, not by an inclusion template: it sits in every row of the domain
    list (domains/templatetags/table_rows.py)."""
    if hasattr(domain, "dns_status"):
        status, checked_at = domain.dns_status, domain.dns_checked_at
    else:
        run = DnsCheckRun.objects.filter(domain=domain).order_by("-created", "-id").only("status", "created").first()
        status, checked_at = (run.status, run.created) if run else (None, None)
    url = pk_url("dnscheck:domain", domain.pk)
    if not status:
        return mark_safe(f'<a class="dns-badge dns-badge--none" href="{url}">{escape(_("DNS: not checked"))}</a>')
    when = date_format(timezone.localtime(checked_at), "DATETIME_FORMAT") if checked_at else ""
    title = _("DNS checked %(when)s") % {"when": when}
    return mark_safe(f'<a class="dns-badge dns-badge--{escape(status)}" href="{url}" title="{escape(title)}">'
                     f'{escape(_("DNS"))}: {escape(str(_LABELS.get(status, "")))}</a>')
