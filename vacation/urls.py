from django.urls import path

from . import views

app_name = "vacation"

urlpatterns = [
    path("mailboxes/<int:pk>/vacation/off/", views.admin_switch_off, name="admin-off"),
]
