from django.apps import AppConfig


class VacationConfig(AppConfig):
    name = "vacation"
    verbose_name = "Vacation replies"
