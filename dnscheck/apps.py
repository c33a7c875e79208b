from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DnscheckConfig(AppConfig):
    name = "dnscheck"
    verbose_name = _("DNS health and DKIM")
    default_auto_field = "django.db.models.BigAutoField"
