from django import template

from ..checks import STATUS_CHOICES
from ..models import DnsCheckRun

register = template.Library()
_LABELS = dict(STATUS_CHOICES)


@register.inclusion_tag("dnscheck/components/dns_badge.html")
def dns_badge(domain):
    """The domain's latest DNS status. Annotate the list with
    dnscheck.selectors.with_dns_status() first; otherwise this costs one query per domain."""
    if hasattr(domain, "dns_status"):
        status, checked_at = domain.dns_status, domain.dns_checked_at
    else:
        run = DnsCheckRun.objects.filter(domain=domain).order_by("-created", "-id").only("status", "created").first()
        status, checked_at = (run.status, run.created) if run else (None, None)
    return {"domain": domain, "status": status, "label": _LABELS.get(status), "checked_at": checked_at}
