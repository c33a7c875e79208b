"""Admin pages: a mailbox's app passwords and send-as grants (under the mailbox's URL)."""
from django.urls import path

from . import views

app_name = "mailaccess"

urlpatterns = [
    path("mailboxes/<int:pk>/app-passwords/new/", views.app_password_create, name="app-password-create"),
    path("mailboxes/<int:pk>/app-passwords/<int:app_password_pk>/revoke/", views.app_password_revoke,
         name="app-password-revoke"),
    path("mailboxes/<int:pk>/send-as/new/", views.sender_grant_create, name="sender-grant-create"),
    path("mailboxes/<int:pk>/send-as/<int:grant_pk>/delete/", views.sender_grant_delete,
         name="sender-grant-delete"),
]
