"""Settings for mailadmin, read from the environment.

Development: DJANGO_DEBUG=1 and everything has a sensible default.
Production (DJANGO_DEBUG unset or 0): DJANGO_SECRET_KEY must be set to a real key,
otherwise the process refuses to start.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

_INSECURE_KEY_PREFIX = "django-insecure-"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production mode (DJANGO_DEBUG unset) refuses to start "
            "without a real secret key; generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = _INSECURE_KEY_PREFIX + "development-only-key-never-use-in-production"
elif not DEBUG and (SECRET_KEY.startswith(_INSECURE_KEY_PREFIX) or len(SECRET_KEY) < 40):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY looks like a placeholder (too short or 'django-insecure-'); "
        "production needs at least 40 random characters."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "accounts",
    "domains",
    "audit",
    "dnscheck",
    "quota",
    "ops",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "twofactor",
    "ninja",  # only for its vendored Swagger UI assets and template (no CDN)
    "api",
    "pfimport",
    "vacation",
    "mailaccess",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ops.middleware.SecurityHeadersMiddleware",
    "ops.middleware.RequireUtf8BodyMiddleware",
    "ops.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ops.middleware.NoStoreWhenLoggedInMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "twofactor.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes' requirement).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mailadmin.urls"
WSGI_APPLICATION = "mailadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The panel's own role owns the schema; Postfix and Dovecot use read-only roles
# created by `manage.py dbroles`.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://mailadmin@127.0.0.1:5432/mailadmin"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Admin"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AdminBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Admins imported from Postfixadmin keep their hash until their first login (accounts/hashers.py).
    "accounts.hashers.DovecotSchemeHasher",
]
MIN_PASSWORD_LENGTH = int(os.environ.get("MAILADMIN_MIN_PASSWORD_LENGTH", "12"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": MIN_PASSWORD_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Mailbox passwords: Dovecot {ARGON2ID} hashes made with argon2-cffi.
# t=2, m=19 MiB, p=1 is OWASP's recommended argon2id minimum and costs about 40 ms per
# Dovecot login here (argon2-cffi's own defaults cost about 120 ms); see docs/mailstack.md.
MAILBOX_ARGON2_TIME_COST = int(os.environ.get("MAILADMIN_ARGON2_TIME_COST", "2"))
MAILBOX_ARGON2_MEMORY_KIB = int(os.environ.get("MAILADMIN_ARGON2_MEMORY_KIB", str(19 * 1024)))
MAILBOX_ARGON2_PARALLELISM = int(os.environ.get("MAILADMIN_ARGON2_PARALLELISM", "1"))
# Rows per CSV upload on /import/ (domains/import_views.py): each mailbox costs one argon2 hash
# (about 40 ms at the cost above) in the commit request, which must end inside gunicorn's 30 s
# timeout on a busy host. Larger files go through `manage.py mailbox import`.
MAILADMIN_IMPORT_WEB_MAX_ROWS = int(os.environ.get("MAILADMIN_IMPORT_WEB_MAX_ROWS", "300"))

# Admin two-factor authentication (TOTP + backup codes, django-otp).
MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS = env_bool("MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS", not DEBUG)
OTP_TOTP_ISSUER = "mailadmin"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Dovecot's doveadm HTTP API, to flush a user's auth cache after a password change (off if empty).
MAILADMIN_DOVEADM_API_URL = os.environ.get("MAILADMIN_DOVEADM_API_URL", "")
MAILADMIN_DOVEADM_API_KEY = os.environ.get("MAILADMIN_DOVEADM_API_KEY", "")

# Where Dovecot keeps mail; mailbox.maildir is relative to it.
MAIL_ROOT = os.environ.get("MAILADMIN_MAIL_ROOT", "/var/vmail")
# Plus-addressing: name+tag@ is delivered to name@ (Postfix and Dovecot's recipient_delimiter,
# written by `manage.py mailconfig`); address names may not contain it. Empty turns it off.
MAILADMIN_RECIPIENT_DELIMITER = os.environ.get("MAILADMIN_RECIPIENT_DELIMITER", "+")

# --- DNS health checks and DKIM (dnscheck app) -------------------------------------------
# This mail server's identity, as the rest of the world must see it in DNS: the MX host
# name(s) every domain should point at, the public addresses those names resolve to (and
# whose reverse names must match them), the DKIM selector scheme (strftime, so a rotation
# gets a new selector) and the mailbox that receives DMARC and TLS-RPT reports.
MAILADMIN_MX_HOSTS = env_list("MAILADMIN_MX_HOSTS", "mail.example.org")
MAILADMIN_PUBLIC_IPV4 = env_list("MAILADMIN_PUBLIC_IPV4")
MAILADMIN_PUBLIC_IPV6 = env_list("MAILADMIN_PUBLIC_IPV6")
MAILADMIN_DKIM_SELECTOR_FORMAT = os.environ.get("MAILADMIN_DKIM_SELECTOR_FORMAT", "mail%Y%m")
MAILADMIN_DMARC_REPORT_ADDRESS = os.environ.get("MAILADMIN_DMARC_REPORT_ADDRESS", "")
# The resolver the checks ask. Empty: the system resolver (/etc/resolv.conf); a validating
# recursive resolver close to the mail server sees what remote mail servers see.
MAILADMIN_DNS_NAMESERVERS = env_list("MAILADMIN_DNS_NAMESERVERS")
MAILADMIN_DNS_PORT = int(os.environ.get("MAILADMIN_DNS_PORT", "53"))
MAILADMIN_DNS_TIMEOUT = float(os.environ.get("MAILADMIN_DNS_TIMEOUT", "3"))
# Seconds between two DNS checks of one domain from the panel (dnscheck/services.py); one check
# of a domain runs at a time whatever this says.
DNSCHECK_MIN_INTERVAL = int(os.environ.get("MAILADMIN_DNSCHECK_MIN_INTERVAL", "30"))
# --- end of dnscheck settings ---------------------------------------------------------------

# REST API (api/): requests per token, counted in a cache every worker shares (a database
# table, created by the api app's migrations), so the limit holds across gunicorn workers.
MAILADMIN_API_RATE = os.environ.get("MAILADMIN_API_RATE", "1200/min")

# Stateless panel nodes: any node behind the load balancer can serve any request, because
# all state lives in PostgreSQL (docs/deploy.md): sessions (Django's database backend), login
# throttling (django-axes' database handler), the API throttle and the cache that holds the
# dashboard totals and quota histogram (the mailadmin_cache table, made by a migration of the
# ops app).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# MAX_ENTRIES: past it, Django's database cache drops a third of the entries, live ones too. The
# throttle holds one entry per API token and window; at Django's default of 300, a 301st busy
# token would wipe other tokens' counts, and with them their limits.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "mailadmin_cache",
                "OPTIONS": {"MAX_ENTRIES": 10_000}},
    "api_throttle": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "api_throttle_cache",
                     "OPTIONS": {"MAX_ENTRIES": 100_000}},
}
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# django-axes: throttle failed logins per account and per IP.
AXES_FAILURE_LIMIT = int(os.environ.get("MAILADMIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("MAILADMIN_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
# One counter per account however the login is spelt, and the real client behind the proxy.
AXES_USERNAME_CALLABLE = "accounts.throttle.account_key"
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
# The reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated):
# without them every client behind nginx is 127.0.0.1 and five bad logins lock out everyone.
MAILADMIN_TRUSTED_PROXIES = env_list("MAILADMIN_TRUSTED_PROXIES")
try:
    [ipaddress.ip_network(entry, strict=False) for entry in MAILADMIN_TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(f"MAILADMIN_TRUSTED_PROXIES: {exc}") from None
AXES_RESET_ON_SUCCESS = True
# Tries made while locked out do not restart the cool-off: otherwise one client retrying
# keeps an account locked for ever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("MAILADMIN_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("MAILADMIN_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get(
    "MAILADMIN_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("MAILADMIN_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("MAILADMIN_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("MAILADMIN_FROM_EMAIL", "mailadmin@localhost")

SESSION_COOKIE_AGE = int(os.environ.get("MAILADMIN_SESSION_SECONDS", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere: htmx comes from a static file and is configured by a
# <meta> tag; charts are SVG attributes, bars are <meter>.
CONTENT_SECURITY_POLICY = os.environ.get("MAILADMIN_CSP", "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'",
    "base-uri 'none'", "object-src 'none'",
]))
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("MAILADMIN_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("MAILADMIN_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Intentional: joining the browsers' preload list is a one-way decision for the
        # whole domain, so it stays opt-in (MAILADMIN_HSTS_PRELOAD=1).
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # TLS ends at the reverse proxy in front of gunicorn (docs/deploy.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("MAILADMIN_SSL_REDIRECT", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_traceback_for_client_errors": {"()": "ops.logging.NoTracebackForClientErrors"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "ops.logging.JsonFormatter"},
    },
    # Structured JSON lines on stdout in production; MAILADMIN_LOG_FORMAT=plain for humans.
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                            "formatter": os.environ.get("MAILADMIN_LOG_FORMAT", "plain" if DEBUG else "json")}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("MAILADMIN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A refused request (403, 400) is one line, not a traceback.
        "django.request": {"filters": ["no_traceback_for_client_errors"]},
    },
}
