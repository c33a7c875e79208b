from django.urls import path

from . import views

app_name = "quota"

urlpatterns = [
    path("", views.quota_list, name="list"),
    path("export.csv", views.quota_export, name="export"),
]
