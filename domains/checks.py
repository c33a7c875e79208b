"""System checks (`manage.py check`, and before every command that needs them) for the settings
that end up in the mail servers' configuration: the same rules as `manage.py mailconfig`'s."""
from django.conf import settings
from django.core.checks import Error, register

from domains.mailstack import validate_mail_root, validate_recipient_delimiter


@register()
def mail_stack_settings(app_configs, **kwargs) -> list[Error]:
    """An Error for MAILADMIN_MAIL_ROOT or MAILADMIN_RECIPIENT_DELIMITER when Postfix or Dovecot
    could not carry it (domains.mailstack.validate_mail_root / validate_recipient_delimiter)."""
    errors = []
    for check, value, env, code in ((validate_mail_root, settings.MAIL_ROOT, "MAILADMIN_MAIL_ROOT", "domains.E001"),
                                    (validate_recipient_delimiter, settings.MAILADMIN_RECIPIENT_DELIMITER,
                                     "MAILADMIN_RECIPIENT_DELIMITER", "domains.E002")):
        try:
            check(value)
        except ValueError as exc:
            errors.append(Error(str(exc), hint=f"fix {env} in the panel's environment", id=code))
    return errors
