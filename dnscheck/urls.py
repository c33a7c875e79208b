from django.urls import path

from . import views

app_name = "dnscheck"

urlpatterns = [
    path("<int:domain_pk>/", views.domain_dns, name="domain"),
    path("<int:domain_pk>/check/", views.domain_dns_check, name="check"),
    path("<int:domain_pk>/dkim/generate/", views.dkim_generate, name="dkim-generate"),
    path("<int:domain_pk>/dkim/<int:key_pk>/retire/", views.dkim_retire, name="dkim-retire"),
]
