"""Test settings: the real PostgreSQL from DATABASE_URL, cheap hashes, no throttling surprises."""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("MAILADMIN_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from .settings import *  # noqa: E402,F403

# Admin passwords: the cheapest hasher, tests create many admins.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "accounts.hashers.DovecotSchemeHasher"]
# Mailbox hashes stay real {ARGON2ID} (Dovecot verifies them), only cheaper.
MAILBOX_ARGON2_TIME_COST = 1
MAILBOX_ARGON2_MEMORY_KIB = 8 * 1024

# One test process is one node: a per-process cache, cleared before each test (conftest.py)
# even for tests without database access. tests/ops/test_stateless.py checks the shared
# database cache of production across processes.
# The API throttle keeps its shared database table (tests/api checks it across requests).
CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # noqa: F405

# Plain HTTP in tests (the browser tests talk to a live server over http).
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Live-server and browser tests serve static files straight from static/ (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# DNS checks: never the system resolver. Tests that check DNS point these at their own
# loopback Knot server (tests/dnscheck/fixtures.py); anything else gets a closed port.
MAILADMIN_DNS_NAMESERVERS = ["127.0.0.1"]
MAILADMIN_DNS_PORT = 9
MAILADMIN_DNS_TIMEOUT = 0.5
# Tests that need the superadmin 2FA requirement turn it on themselves.
MAILADMIN_REQUIRE_2FA_FOR_SUPERADMINS = False
# Readable test output: plain log lines, and no django-axes chatter.
LOGGING["handlers"]["stdout"]["formatter"] = "plain"
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
