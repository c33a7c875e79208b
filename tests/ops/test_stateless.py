"""Panel nodes share no state of their own: what one node caches, stores in a session or counts
toward a login lockout, another node sees (production settings, separate processes)."""
import os
import secrets
import subprocess
import sys

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def node(code: str) -> str:
    """Run `code` in a fresh process under production settings, on the test database: one
    more panel node."""
    db = connection.settings_dict
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mailadmin.settings", DJANGO_DEBUG="0",
               DJANGO_SECRET_KEY="s" * 50, DJANGO_ALLOWED_HOSTS="mail.example.org",
               DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_cache_is_shared_between_nodes():
    key = "probe-" + secrets.token_hex(4)
    node(f"from django.core.cache import cache; cache.set('{key}', 'set on node A', 60)")
    assert node(f"from django.core.cache import cache; print(cache.get('{key}'))") == "set on node A"
    # The dashboard totals live in that cache: node B answers from what node A computed.
    node("from django.core.cache import cache; cache.set('dashboard:all', {'domains': 4242}, 60)")
    assert node("from accounts.models import Admin; from domains.selectors import dashboard_totals;"
                "print(dashboard_totals(Admin(role='superadmin', is_active=True))['domains'])") == "4242"
    node("from django.core.cache import cache; cache.clear()")


def test_sessions_and_login_throttling_live_in_the_database():
    settings = node("from django.conf import settings as s; from django.core.cache import caches;"
                    "print(s.SESSION_ENGINE, s.AXES_HANDLER, type(caches['default']).__name__)")
    assert settings.split() == ["django.contrib.sessions.backends.db", "axes.handlers.database.AxesDatabaseHandler",
                                "DatabaseCache"]
    # A session made by node A opens on node B.
    session_key = node("from django.contrib.sessions.backends.db import SessionStore; s = SessionStore();"
                       "s['who'] = 'node A'; s.save(); print(s.session_key)")
    assert node("from django.contrib.sessions.backends.db import SessionStore;"
                f"print(SessionStore('{session_key}')['who'])") == "node A"


def test_api_throttle_keeps_every_tokens_count_past_django_s_default_cull():
    """Django's database cache culls a third of its entries past MAX_ENTRIES (300 by default),
    live ones too: with more busy API tokens than that, some would lose their counts."""
    counted = node("from django.core.cache import caches; c = caches['api_throttle'];"
                   "[c.set(f'probe-token-{i}', 7, 300) for i in range(450)];"
                   "print(sum(c.get(f'probe-token-{i}') == 7 for i in range(450)))")
    assert counted == "450"
