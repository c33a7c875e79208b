"""gunicorn's preload_app: the master imports and warms up the panel without a database
connection (one shared by forked workers would mix their traffic), and the deployment guide
says that an upgrade needs a restart, since a reload forks from the master's old code."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import psycopg
opened = []
real = psycopg.Connection.connect.__func__
psycopg.Connection.connect = classmethod(lambda cls, *a, **k: opened.append(1) or real(cls, *a, **k))
import mailadmin.wsgi
from django.db import connections
from django.template import engines
from django.urls import get_resolver
assert not opened and all(c.connection is None for c in connections.all()), opened
# The warm-up built the URL tables (reading them would build them) and compiled the templates.
assert get_resolver()._populated
from django.conf import settings
assert set(get_resolver()._reverse_dict) == {code for code, _ in settings.LANGUAGES}, list(get_resolver()._reverse_dict)
[cached] = engines["django"].engine.template_loaders[0].loaders  # template_partials wraps the cached loader
assert len(cached.get_template_cache) > 50, len(cached.get_template_cache)
print("warm, no connection")
"""


def test_master_warms_up_without_touching_the_database():
    import runpy

    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["preload_app"] is True
    # Production settings and a database that is not there: the master must still start.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="mailadmin.settings", DJANGO_SECRET_KEY="k" * 50,
               DJANGO_ALLOWED_HOSTS="panel.example.org", DATABASE_URL="postgres://nobody:x@127.0.0.1:9/none",
               PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warm, no connection" in result.stdout


def test_deploy_guide_says_restart_after_an_upgrade():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    section = guide.split("### Upgrading", 1)[1].split("\n#", 1)[0]
    assert "systemctl restart mailadmin" in section and "reload" in section
