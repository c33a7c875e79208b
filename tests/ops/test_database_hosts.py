"""The panel's DATABASE_URL with a libpq host list, as docs/deploy.md section 9 writes it:
the URL parses, and the panel connects past a host that is down to the one accepting writes."""
import re
from pathlib import Path

import dj_database_url
import pytest
from django.conf import settings
from django.db.backends.postgresql.base import DatabaseWrapper

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def documented_url() -> str:
    urls = re.findall(r"DATABASE_URL=(\S+target_session_attrs=read-write)", DOC.read_text())
    assert len(urls) == 1
    return urls[0]


def test_the_documented_host_list_parses():
    config = dj_database_url.parse(documented_url())
    assert config["HOST"] == "db-1.internal,db-2.internal"
    assert config["OPTIONS"] == {"target_session_attrs": "read-write"}


@pytest.mark.django_db
def test_the_panel_connects_through_a_host_list_past_a_dead_host():
    real = settings.DATABASES["default"]
    url = documented_url().replace("db-1.internal,db-2.internal", f"127.0.0.9,{real['HOST']}:{real['PORT']}")
    url = url.replace("mailadmin:PANEL-DB-PASSWORD", f"{real['USER']}:{real['PASSWORD']}")
    url = url.replace("/mailadmin?", f"/{real['NAME']}?")
    config = {**real, **dj_database_url.parse(url), "OPTIONS": {**dj_database_url.parse(url)["OPTIONS"],
                                                                "connect_timeout": 3}}
    wrapper = DatabaseWrapper(config)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT NOT pg_is_in_recovery()")
            assert cursor.fetchone() == (True,)
    finally:
        wrapper.close()
