"""Small template helpers of the panel's pages."""
from django import template

from domains.effects import deactivation_warning as _deactivation_warning
from domains.http import PAGE_SIZES

register = template.Library()


@register.filter
def deactivation_warning(obj) -> str:
    """{{ domain|deactivation_warning }}: what deactivating it stops (domains/effects.py)."""
    return _deactivation_warning(obj)


@register.simple_tag
def page_size_choices() -> tuple[int, ...]:
    """{% page_size_choices as page_sizes %}: the rows-per-page an admin may pick."""
    return PAGE_SIZES
