"""{{ name|with_punycode }}: a stored (ASCII) domain name in Unicode with its punycode beside it,
wherever someone decides about a name: a look-alike shows its true form."""
from django import template

from domains.name_claims import name_with_punycode

register = template.Library()


@register.filter
def with_punycode(ascii_name: str) -> str:
    return name_with_punycode(ascii_name or "")
