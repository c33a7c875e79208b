"""Small template helpers of the panel's pages."""
from django import template

from domains.effects import deactivation_warning as _deactivation_warning

register = template.Library()


@register.filter
def deactivation_warning(obj) -> str:
    """{{ domain|deactivation_warning }}: what deactivating it stops (domains/effects.py)."""
    return _deactivation_warning(obj)
