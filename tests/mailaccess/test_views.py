"""mailaccess pages: every admin view for every role, the /me/ pages, the mailbox page."""
import pytest
from django.urls import reverse

from accounts.mailusers import MailUserActor
from mailaccess import services
from mailaccess.models import AppPassword, SenderGrant
from tests.roles import ROLES, check_role, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def _urls(world, app_password, grant):
    pk = world.mailbox.pk
    return [
        ("get", reverse("mailaccess:app-password-create", args=[pk]), {}),
        ("post", reverse("mailaccess:app-password-create", args=[pk]), {"name": "phone", "protocols": ["imap"]}),
        ("post", reverse("mailaccess:app-password-revoke", args=[pk, app_password.pk]), {}),
        ("get", reverse("mailaccess:sender-grant-create", args=[pk]), {}),
        ("post", reverse("mailaccess:sender-grant-create", args=[pk]), {"address": "sales@example.org"}),
        ("post", reverse("mailaccess:sender-grant-delete", args=[pk, grant.pk]), {}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_admin_views_for_every_role(world, role):
    app_password = services.app_password_create(mailbox=world.mailbox, name="laptop", acting_user=None).app_password
    grant = services.sender_grant_create(mailbox=world.mailbox, address="info@example.org", acting_user=None)
    client = world.client(role)
    for method, url, data in _urls(world, app_password, grant):
        response = getattr(client, method)(url, data)
        check_role(world, role, response, allowed={"superadmin", "domain_admin"}, secrets=("bob@example.org",))
    if role in ("superadmin", "domain_admin"):
        assert not AppPassword.objects.get(name="laptop").active
        assert AppPassword.objects.get(name="phone").protocols == ["imap"]
        assert list(SenderGrant.objects.values_list("address", flat=True)) == ["sales@example.org"]
    else:
        assert AppPassword.objects.get(name="laptop").active
        assert not AppPassword.objects.filter(name="phone").exists()
        assert list(SenderGrant.objects.values_list("address", flat=True)) == ["info@example.org"]


def test_created_app_password_is_shown_once_to_the_admin(world):
    client = world.client("domain_admin")
    url = reverse("mailaccess:app-password-create", args=[world.mailbox.pk])
    response = client.post(url, {"name": "phone"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert 'id="app-password-secret"' in body
    detail = client.get(reverse("domains:mailbox-detail", args=[world.mailbox.pk])).content.decode()
    assert "phone" in detail and 'id="app-password-secret"' not in detail
    # htmx gets the fragment that replaces the form.
    response = client.post(url, {"name": "tablet"}, HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<section class="card" id="app-password-shown">')


def test_domain_admin_is_refused_an_outside_address_at_the_form(world):
    client = world.client("domain_admin")
    url = reverse("mailaccess:sender-grant-create", args=[world.mailbox.pk])
    for address in ("someone@gmail.com", "x@other.example"):
        response = client.post(url, {"address": address})
        assert response.status_code == 200
        assert "You may grant only addresses of the domains you manage" in response.content.decode()
    assert not SenderGrant.objects.exists()
    response = client.post(url, {"address": "someone@gmail.com"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Vous ne pouvez" in response.content.decode()
    assert client.post(url, {"address": "sales@example.org"}).status_code == 302


def test_mailbox_page_shows_both(world, django_assert_max_num_queries):
    services.app_password_create(mailbox=world.mailbox, name="laptop", protocols=["smtp"], acting_user=None)
    services.sender_grant_create(mailbox=world.mailbox, address="boss@remote.example", acting_user=None)
    client = world.client("domain_admin")
    body = client.get(reverse("domains:mailbox-detail", args=[world.mailbox.pk])).content.decode()
    assert "laptop" in body and "SMTP submission" in body and "boss@remote.example" in body
    assert "granted by an administrator" in body and "its own address" in body


def _mail_user(client, world):
    session = client.session
    session["mailbox_id"] = world.mailbox.pk
    session.save()
    from accounts.mailusers import SESSION_FINGERPRINT, fingerprint
    session[SESSION_FINGERPRINT] = fingerprint(world.mailbox)
    session.save()
    return client


def test_mail_user_creates_lists_and_revokes(client, world):
    _mail_user(client, world)
    url = reverse("mailaccess-me:app-passwords")
    page = client.get(url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    response = client.post(url, {"name": "phone", "protocols": ["imap", "smtp"]})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="app-password-secret"' in body
    secret = body.split('id="app-password-secret">')[1].split("<")[0]
    assert len(secret) == 19
    assert secret not in client.get(url).content.decode()   # shown once
    app_password = AppPassword.objects.get(mailbox=world.mailbox)
    assert app_password.created_by == "bob@example.org"
    client.post(reverse("mailaccess-me:app-password-revoke", args=[app_password.pk]))
    assert not AppPassword.objects.get().active


def test_mail_user_cannot_touch_another_mailboxs_app_password(client, world):
    from tests.factories import MailboxFactory

    other = MailboxFactory(domain=world.domain, local_part="carol")
    theirs = services.app_password_create(mailbox=other, name="x", acting_user=MailUserActor(other.address))
    _mail_user(client, world)
    response = client.post(reverse("mailaccess-me:app-password-revoke", args=[theirs.app_password.pk]))
    assert response.status_code == 404
    assert AppPassword.objects.get().active


def test_me_pages_need_a_mail_user_login(client, world):
    for name in ("mailaccess-me:app-passwords", "mailaccess-me:send-as"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/me/login/")


def test_send_as_page_in_french(client, world):
    services.sender_grant_create(mailbox=world.mailbox, address="boss@remote.example", acting_user=None)
    _mail_user(client, world)
    body = client.get(reverse("mailaccess-me:send-as"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "boss@remote.example" in body and "accordé par un administrateur" in body
