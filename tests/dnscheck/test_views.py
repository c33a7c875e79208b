"""The domain DNS page and its actions: every view x every role, htmx vs full render."""
import pytest
from django.template import Context, Template
from django.urls import reverse

from audit.models import AuditEntry
from dnscheck import services
from dnscheck.models import DkimKey, DnsCheckRun
from dnscheck.selectors import with_dns_status
from domains.models import Domain
from tests.factories import AdminFactory, DomainFactory

pytestmark = pytest.mark.django_db

VIEWS = [
    ("get", "dnscheck:domain", {}),
    ("post", "dnscheck:check", {}),
    ("post", "dnscheck:dkim-generate", {"algorithm": "rsa-2048"}),
    ("post", "dnscheck:dkim-retire", {}),
]


@pytest.fixture
def key(domain, superadmin, dns_settings):
    return services.dkim_key_generate(domain=domain, acting_user=superadmin)


def url_for(name, domain, key):
    kwargs = {"domain_pk": domain.pk}
    if name == "dnscheck:dkim-retire":
        kwargs["key_pk"] = key.pk
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("method, name, data", VIEWS)
def test_anonymous_is_sent_to_login(client, domain, key, method, name, data):
    response = getattr(client, method)(url_for(name, domain, key), data)
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


@pytest.mark.parametrize("method, name, data", VIEWS)
def test_admin_of_another_domain_gets_404(client, domain, key, method, name, data):
    client.force_login(AdminFactory(domains=[DomainFactory()]))
    response = getattr(client, method)(url_for(name, domain, key), data)
    assert response.status_code == 404
    assert DkimKey.objects.count() == 1 and DkimKey.objects.get().active
    assert not DnsCheckRun.objects.exists()


@pytest.mark.parametrize("role", ["superadmin", "domain_admin"])
@pytest.mark.parametrize("method, name, data", VIEWS)
def test_allowed_roles(client, request, domain, key, method, name, data, role):
    client.force_login(request.getfixturevalue(role))
    response = getattr(client, method)(url_for(name, domain, key), data)
    if method == "get":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response.url == reverse("dnscheck:domain", kwargs={"domain_pk": domain.pk})


def test_key_of_another_domain_cannot_be_retired_through_my_domain(client, domain, domain_admin, dns_settings):
    other_key = services.dkim_key_generate(domain=DomainFactory(), acting_user=None)
    client.force_login(domain_admin)
    response = client.post(reverse("dnscheck:dkim-retire", kwargs={"domain_pk": domain.pk, "key_pk": other_key.pk}))
    assert response.status_code == 404
    other_key.refresh_from_db()
    assert other_key.active


def test_page_shows_snippet_and_keys_but_never_the_private_key(client, domain, domain_admin, key):
    client.force_login(domain_admin)
    response = client.get(reverse("dnscheck:domain", kwargs={"domain_pk": domain.pk}))
    html = response.content.decode()
    assert f"{key.selector}._domainkey" in html
    assert "v=spf1 ip4:203.0.113.10 ip6:2001:db8::10 -all" in html
    assert "PRIVATE KEY" not in html
    assert key.private_key.splitlines()[1] not in html
    assert 'data-copy-target="zone-snippet"' in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style


def test_htmx_check_renders_only_the_results_partial(client, domain, domain_admin, dns_settings):
    Domain.objects.filter(pk=domain.pk).update(name="servfail.test")
    client.force_login(domain_admin)
    response = client.post(reverse("dnscheck:check", kwargs={"domain_pk": domain.pk}), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="check-results"')
    assert "<html" not in html
    assert "SERVFAIL" in html
    assert DnsCheckRun.objects.get(domain=domain).status == "unknown"


def test_generate_with_an_invalid_algorithm_is_a_form_error(client, domain, domain_admin, dns_settings):
    client.force_login(domain_admin)
    response = client.post(reverse("dnscheck:dkim-generate", kwargs={"domain_pk": domain.pk}), {"algorithm": "dsa"})
    assert response.status_code == 400
    assert response.context["form"].has_error("algorithm", "invalid_choice")
    assert not DkimKey.objects.exists()


def test_generate_then_retire_through_the_views(client, domain, domain_admin, dns_settings):
    client.force_login(domain_admin)
    client.post(reverse("dnscheck:dkim-generate", kwargs={"domain_pk": domain.pk}), {"algorithm": "ed25519"})
    key = DkimKey.objects.get(domain=domain)
    assert key.algorithm == "ed25519" and key.active
    client.post(reverse("dnscheck:dkim-retire", kwargs={"domain_pk": domain.pk, "key_pk": key.pk}))
    key.refresh_from_db()
    assert not key.active
    assert AuditEntry.objects.filter(actor=domain_admin, action__startswith="dkim.").count() == 2


def test_badges_for_a_page_of_domains_cost_one_query(django_assert_num_queries):
    domains = [DomainFactory() for _ in range(5)]
    for status, item in zip(["ok", "error", "warning"], domains):
        DnsCheckRun.objects.create(domain=item, status="unknown")
        DnsCheckRun.objects.create(domain=item, status=status)  # the latest wins
    template = Template("{% load dnscheck_tags %}{% for d in domains %}{% dns_badge d %}{% endfor %}")
    with django_assert_num_queries(1):
        html = template.render(Context({"domains": with_dns_status(Domain.objects.order_by("name"))}))
    assert html.count("dns-badge--ok") == 1
    assert html.count("dns-badge--error") == 1
    assert html.count("dns-badge--warning") == 1
    assert html.count("dns-badge--none") == 2
    assert "dns-badge--unknown" not in html
