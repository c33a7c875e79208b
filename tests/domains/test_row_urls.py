"""{% pk_url %} and {% fixed_url %} give exactly what {% url %} gives, for any pk and script prefix."""
import pytest
from django.template import engines
from django.urls import NoReverseMatch, clear_script_prefix, set_script_prefix

NAMES = ["domains:domain-detail", "domains:domain-set-active", "domains:mailbox-update",
         "domains:mailbox-set-active", "domains:mailbox-password", "domains:mailbox-forwarding",
         "domains:mailbox-delete", "domains:alias-update", "domains:alias-set-active", "domains:alias-delete",
         "domains:aliasdomain-set-active", "domains:aliasdomain-delete", "domains:domain-alias-list",
         "dnscheck:domain"]


def render(source: str, **context) -> str:
    return engines["django"].from_string("{% load row_urls %}" + source).render(context)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pk", [1, 42, 9_007_199_254_740_992])
def test_same_as_the_url_tag(name, pk):
    assert render("{% pk_url name pk %}", name=name, pk=pk) == render("{% url name pk %}", name=name, pk=pk)


@pytest.mark.parametrize("prefix", ["/", "/panel/"])
def test_follows_the_script_prefix(prefix):
    set_script_prefix(prefix)
    try:
        assert render("{% pk_url 'domains:mailbox-update' 7 %}") == f"{prefix}mailboxes/7/edit/"
    finally:
        clear_script_prefix()


def test_refuses_a_url_that_does_not_take_a_pk():
    with pytest.raises(NoReverseMatch):
        render("{% pk_url 'domains:domain-list' 7 %}")


@pytest.mark.parametrize("prefix", ["/", "/panel/"])
@pytest.mark.parametrize("name", ["set_language", "domains:dashboard", "domains:mailbox-list", "quota:list",
                                  "accounts:logout", "api-tokens:list"])
def test_fixed_url_is_the_url_tag_under_any_script_prefix(prefix, name):
    set_script_prefix(prefix)
    try:
        assert render("{% fixed_url name %}", name=name) == render("{% url name %}", name=name)
        assert render("{% fixed_url name %}", name=name).startswith(prefix)
    finally:
        clear_script_prefix()


def test_active_toggle_markup_and_escaping():
    """The switch every table row carries (the mailbox rows through table_rows.py): the
    warning htmx asks about is escaped inside its attribute."""
    on = render("{% active_toggle '/mailboxes/7/active/' True 'mailbox' 7 warning %}", warning='Stops "x" & <y>')
    assert on == (
        '<button type="submit" form="toggle-form" formaction="/mailboxes/7/active/" name="active" value="0" '
        'hx-post="/mailboxes/7/active/" hx-vals=\'{"active": "0", "confirmed": "1"}\' hx-target="closest tr" '
        'hx-swap="outerHTML" hx-confirm="Stops &quot;x&quot; &amp; &lt;y&gt; Deactivate?" class="toggle on" '
        'role="switch" aria-checked="true" aria-describedby="mailbox-7-label">Active</button>')
    off = render("{% active_toggle '/aliases/9/active/' False 'alias' 9 'w' %}")
    assert off == (
        '<button type="submit" form="toggle-form" formaction="/aliases/9/active/" name="active" value="1" '
        'hx-post="/aliases/9/active/" hx-vals=\'{"active": "1", "confirmed": "1"}\' hx-target="closest tr" '
        'hx-swap="outerHTML" class="toggle" role="switch" aria-checked="false" aria-describedby="alias-9-label">'
        'Inactive</button>')
