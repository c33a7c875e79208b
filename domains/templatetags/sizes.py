"""Sizes in templates, exactly as the forms read them (domains/units.py), where an admin may
type back what they see: {{ bytes|size }}, and {{ limit|quota }} ("unlimited" for 0)."""
from django import template

from domains.units import format_quota, format_size

register = template.Library()


@register.filter
def size(value) -> str:
    return format_size(int(value or 0))


@register.filter
def quota(value) -> str:
    return format_quota(int(value or 0))
