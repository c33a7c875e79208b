import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from domains import selectors
from tests.factories import AdminFactory, AliasDomainFactory, AliasFactory, DomainFactory, MailboxFactory

pytestmark = pytest.mark.django_db


def test_domain_admin_sees_only_their_domains(superadmin):
    mine, theirs = DomainFactory(), DomainFactory()
    admin = AdminFactory(domains=[mine])
    my_mailbox, their_mailbox = MailboxFactory(domain=mine), MailboxFactory(domain=theirs)
    my_alias, their_alias = AliasFactory(domain=mine), AliasFactory(domain=theirs)
    my_ad, their_ad = AliasDomainFactory(target=mine), AliasDomainFactory(target=theirs)

    assert list(selectors.domains_for(admin)) == [mine]
    assert list(selectors.mailboxes_for(admin)) == [my_mailbox]
    assert list(selectors.aliases_for(admin)) == [my_alias]
    assert list(selectors.alias_domains_for(admin)) == [my_ad]
    assert selectors.get_mailbox_for_admin(admin, my_mailbox.pk) == my_mailbox
    for getter, obj in [(selectors.get_domain_for_admin, theirs), (selectors.get_mailbox_for_admin, their_mailbox),
                        (selectors.get_alias_for_admin, their_alias),
                        (selectors.get_alias_domain_for_admin, their_ad)]:
        with pytest.raises(Http404):
            getter(admin, obj.pk)
    with pytest.raises(Http404):
        selectors.get_domain_for_admin(admin, "not-a-number")
    assert set(selectors.domains_for(superadmin)) == {mine, theirs}


def test_anonymous_and_inactive_see_nothing():
    DomainFactory()
    assert not selectors.domains_for(AnonymousUser()).exists()
    inactive = AdminFactory(is_active=False, role="superadmin")
    assert not selectors.domains_for(inactive).exists()
