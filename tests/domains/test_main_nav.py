"""{% main_nav %} (domains/templatetags/panel.py) gives the links the template code it replaced
gave, for both roles, in both languages, on every section; and unlike it, marks the current
section under a script prefix too."""
import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import clear_script_prefix, set_script_prefix
from django.utils import translation

from tests.factories import AdminFactory, SuperadminFactory

pytestmark = pytest.mark.django_db

# The navigation as template code, before it was built in Python: the reference.
REFERENCE = Template("""{% load i18n row_urls %}
      {% fixed_url 'domains:dashboard' as u %}<a href="{{ u }}"{% if request.path == u %} aria-current="page"{% endif %}>{% translate "Dashboard" %}</a>
      {% fixed_url 'domains:domain-list' as u %}<a href="{{ u }}"{% if request.path|slice:":9" == "/domains/" %} aria-current="page"{% endif %}>{% translate "Domains" %}</a>
      {% fixed_url 'domains:mailbox-list' as u %}<a href="{{ u }}"{% if request.path|slice:":11" == "/mailboxes/" %} aria-current="page"{% endif %}>{% translate "Mailboxes" %}</a>
      {% fixed_url 'domains:alias-list' as u %}<a href="{{ u }}"{% if request.path|slice:":9" == "/aliases/" %} aria-current="page"{% endif %}>{% translate "Aliases" %}</a>
      {% fixed_url 'domains:aliasdomain-list' as u %}<a href="{{ u }}"{% if request.path|slice:":15" == "/alias-domains/" %} aria-current="page"{% endif %}>{% translate "Alias domains" %}</a>
      {% fixed_url 'quota:list' as u %}<a href="{{ u }}"{% if request.path|slice:":7" == "/quota/" %} aria-current="page"{% endif %}>{% translate "Quota" %}</a>
      {% fixed_url 'audit:log' as u %}<a href="{{ u }}"{% if request.path|slice:":7" == "/audit/" %} aria-current="page"{% endif %}>{% translate "Audit log" %}</a>
      {% if user.is_superadmin %}{% fixed_url 'accounts:admin-list' as u %}<a href="{{ u }}"{% if request.path|slice:":16" == "/accounts/admins" %} aria-current="page"{% endif %}>{% translate "Admins" %}</a>{% endif %}""")
BUILT = Template("{% load panel %}{% main_nav %}")
PATHS = ["/", "/domains/", "/domains/3/mailboxes/", "/mailboxes/", "/mailboxes/7/", "/aliases/", "/alias-domains/",
         "/quota/", "/quota/export.csv", "/audit/", "/accounts/admins/", "/accounts/admins/2/", "/accounts/password/",
         "/route/"]


def render(template, path, user) -> str:
    request = RequestFactory().get(path)
    html = template.render(Context({"request": request, "user": user}))
    return re.sub(r"\s+", " ", html).strip()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_built_nav_is_the_template_s_nav(language):
    users = [SuperadminFactory(), AdminFactory()]
    with translation.override(language):
        for user in users:
            for path in PATHS:
                built = render(BUILT, path, user)
                # Django leaves {% translate %}'s text unescaped; the tag escapes it too ("Journal d'audit").
                assert built.replace("&#x27;", "'") == render(REFERENCE, path, user), (user.role, path)
                has_section = path not in {"/accounts/password/", "/route/"} and (
                    user.is_superadmin or not path.startswith("/accounts/admins/"))
                assert built.count('aria-current="page"') == has_section, (user.role, path)
    assert ">Admins<" in render(BUILT, "/", users[0]) and ">Admins<" not in render(BUILT, "/", users[1])


def test_under_a_script_prefix_links_and_current_section_follow_it():
    set_script_prefix("/panel/")
    try:
        html = render(BUILT, "/panel/domains/4/", SuperadminFactory())
    finally:
        clear_script_prefix()
    assert '<a href="/panel/">' in html and '<a href="/panel/domains/" aria-current="page">' in html
    assert html.count("aria-current") == 1
    assert '<a href="/domains/"' in render(BUILT, "/domains/", SuperadminFactory())
