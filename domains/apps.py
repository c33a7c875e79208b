from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = "Mail domains"

    def ready(self):
        from domains import checks  # noqa: F401  (registers the system checks)
