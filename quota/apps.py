from django.apps import AppConfig


class QuotaConfig(AppConfig):
    name = "quota"
    verbose_name = "Quota usage"
