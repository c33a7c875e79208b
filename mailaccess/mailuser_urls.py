"""/me/ pages of mailaccess (mounted beside accounts.mailuser_urls)."""
from django.urls import path

from . import mailuser_views as views

app_name = "mailaccess-me"

urlpatterns = [
    path("app-passwords/", views.app_passwords, name="app-passwords"),
    path("app-passwords/<int:app_password_pk>/revoke/", views.app_password_revoke, name="app-password-revoke"),
    path("send-as/", views.send_as, name="send-as"),
]
