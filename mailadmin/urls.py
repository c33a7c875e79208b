from django.urls import include, path

from api.api import api_urls
from ops.views import healthz

handler500 = "ops.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("quota/", include("quota.urls")),
    path("2fa/", include("twofactor.urls")),
    path("me/", include("accounts.mailuser_urls")),
    path("dns/", include("dnscheck.urls")),
    path("api/v1/", api_urls()),
    path("api/tokens/", include("api.urls")),
    path("", include("domains.urls")),
]
