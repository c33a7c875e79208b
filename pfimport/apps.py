from django.apps import AppConfig


class PfimportConfig(AppConfig):
    name = "pfimport"
    verbose_name = "Import from Postfixadmin"
