from django import template

from audit.labels import action_label as _action_label

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    """{{ entry.action|action_label }}: the action in the reader's language."""
    return _action_label(action)
