from django.urls import path

from . import views

app_name = "twofactor"

urlpatterns = [
    path("", views.status, name="status"),
    path("setup/", views.setup, name="setup"),
    path("verify/", views.verify, name="verify"),
    path("backup-codes/", views.backup_codes, name="backup-codes"),
    path("disable/", views.disable, name="disable"),
]
