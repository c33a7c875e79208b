from django.apps import AppConfig


class MailAccessConfig(AppConfig):
    """App passwords (extra logins for mail programs) and send-as grants."""

    name = "mailaccess"
    verbose_name = "Mail access"
