"""factory_boy factories that build rows through the models (services are tested on their own)."""
import factory

from accounts.models import Admin
from domains.models import Alias, AliasDomain, Domain, Mailbox, QuotaUsage
from domains.passwords import hash_password

TEST_PASSWORD = "correct horse battery staple"


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    name = factory.Sequence(lambda n: f"domain{n}.example")


class MailboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mailbox
        skip_postgeneration_save = True

    domain = factory.SubFactory(DomainFactory)
    local_part = factory.Sequence(lambda n: f"user{n}")
    address = factory.LazyAttribute(lambda o: f"{o.local_part}@{o.domain.name}")
    maildir = factory.LazyAttribute(lambda o: f"{o.domain.name}/{o.local_part}/")
    password = factory.LazyFunction(lambda: hash_password(TEST_PASSWORD))
    usage = factory.RelatedFactory("tests.factories.QuotaUsageFactory", factory_related_name="mailbox")


class QuotaUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuotaUsage


class AliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alias

    domain = factory.SubFactory(DomainFactory)
    destinations = factory.LazyFunction(lambda: ["someone@elsewhere.example"])

    @factory.lazy_attribute_sequence
    def address(self, n):
        return f"alias{n}@{self.domain.name}"


class AliasDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AliasDomain

    name = factory.Sequence(lambda n: f"alias-domain{n}.example")
    target = factory.SubFactory(DomainFactory)
    approved = True


class AdminFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Admin
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"admin{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@panel.example")
    role = Admin.Role.DOMAIN_ADMIN
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def domains(self, create, extracted, **kwargs):
        if create and extracted:
            self.domains.set(extracted)
        if create:
            self.save()


class SuperadminFactory(AdminFactory):
    role = Admin.Role.SUPERADMIN
