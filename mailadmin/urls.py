from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from api.api import api_urls
from ops.views import favicon, healthz

handler500 = "ops.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    # The language switch is on the login pages too, before anyone is logged in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("quota/", include("quota.urls")),
    path("2fa/", include("twofactor.urls")),
    path("me/", include("accounts.mailuser_urls")),
    path("me/", include("mailaccess.mailuser_urls")),   # app passwords, send-as addresses
    path("dns/", include("dnscheck.urls")),
    path("api/v1/", api_urls()),
    path("api/tokens/", include("api.urls")),
    path("", include("vacation.urls")),
    path("", include("domains.urls")),
    path("", include("mailaccess.urls")),   # a mailbox's app passwords and send-as grants
]
