"""{% main_nav %} on real pages, for each role, language and section,
with the per-process cache warmed by the other role/language first."""
import re

import pytest

from tests.factories import AdminFactory, DomainFactory, SuperadminFactory

pytestmark = pytest.mark.django_db


def nav(html: str) -> str:
    return re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', html, re.S).group(1)


def test_roles_and_languages_do_not_leak_through_the_cache(client):
    domain = DomainFactory()
    sup, dom = SuperadminFactory(), AdminFactory(domains=[domain])
    for lang in ["fr", "en", "fr"]:
        for who in [sup, dom, sup]:
            client.force_login(who)
            client.cookies["django_language"] = lang
            html = client.get("/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
            links = nav(html)
            assert ("/accounts/admins/" in links) == who.is_superadmin, (lang, who.role)
            assert (("Tableau de bord" in links) == (lang == "fr")), (lang, links)
            assert f'<html lang="{lang}">' in html


SECTIONS = {
    "/": "/", "/domains/": "/domains/", "/mailboxes/": "/mailboxes/", "/aliases/": "/aliases/",
    "/alias-domains/": "/alias-domains/", "/quota/": "/quota/", "/audit/": "/audit/",
    "/accounts/admins/": "/accounts/admins/", "/accounts/admins/new/": "/accounts/admins/",
    "/accounts/password/": None, "/2fa/": None, "/api/tokens/": None, "/route/": None,
}


def test_aria_current_on_each_section(client):
    domain = DomainFactory()
    sup = SuperadminFactory()
    client.force_login(sup)
    urls = dict(SECTIONS, **{f"/domains/{domain.pk}/": "/domains/",
                             f"/domains/{domain.pk}/mailboxes/": "/domains/"})
    for url, current in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        marked = re.findall(r'<a href="([^"]+)" aria-current="page">', nav(response.content.decode()))
        assert marked == ([current] if current else []), (url, marked)


def test_anonymous_and_mail_user_pages_render_without_a_nav(client):
    for url in ["/accounts/login/", "/me/login/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'class="mainnav"' not in response.content.decode()


def test_mail_user_home_renders_without_a_nav_and_with_an_admin_session_too(client):
    from django.urls import reverse

    from domains import services
    domain = services.domain_create(name="example.org", acting_user=None)
    services.mailbox_create(domain=domain, local_part="john", password="the user's passphrase",
                            quota_bytes=10 * 1024**2, acting_user=None)
    client.post(reverse("mailuser:login"), {"address": "john@example.org", "password": "the user's passphrase"})
    page = client.get(reverse("mailuser:home"))
    assert page.status_code == 200 and 'class="mainnav"' not in page.content.decode()
    client.force_login(AdminFactory())  # same browser, an admin too: the admin's nav, no Admins link
    page = client.get(reverse("mailuser:home"))
    assert page.status_code in (200, 302)
    if page.status_code == 200:
        links = nav(page.content.decode())
        assert "/accounts/admins/" not in links and 'aria-current' not in links
