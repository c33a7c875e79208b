"""The panel under gunicorn survives its database going away, and limits hold under parallel HTTP."""
import threading
import time
import urllib.request

import pytest

from tests.ops.live import Browserless, start_live_panel, stop_live_panel

PASSWORD = "live-superadmin-password"


@pytest.fixture(scope="module")
def live():
    panel = start_live_panel()
    created = panel.manage("shell", "-c",
                           "from accounts.services import admin_create;"
                           f"admin_create(username='root', password='{PASSWORD}', role='superadmin', acting_user=None)")
    assert created.returncode == 0, created.stderr
    try:
        yield panel
    finally:
        stop_live_panel(panel)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_database_outage_answers_503_then_recovers(live):
    assert live.manage("domain", "add", "outage.example").returncode == 0
    domain_id = live.sql("SELECT id FROM domain WHERE name = 'outage.example'")
    client = Browserless(live.url)
    client.login("root", PASSWORD)
    token = client.csrf("/aliases/new/")
    form = {"csrfmiddlewaretoken": token, "domain": domain_id, "local_part": "during",
            "destinations": "someone@elsewhere.example", "active": "on"}
    live.stop_database()
    try:
        assert status_of(live.url + "/healthz") == 503
        status, body = client.request("GET", "/aliases/")
        assert status == 503 and "cannot reach its database" in body and "Traceback" not in body
        status, _body = client.request("POST", "/aliases/new/", form)
        assert status == 503
    finally:
        live.start_database()
    deadline = time.monotonic() + 30
    while status_of(live.url + "/healthz") != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status_of(live.url + "/healthz") == 200
    # Nothing of the refused write was stored, not even its audit entry...
    assert live.sql("SELECT count(*) FROM alias WHERE address = 'during@outage.example'") == "0"
    assert live.sql("SELECT count(*) FROM audit_entry WHERE action = 'alias.create'") == "0"
    # ...and the same session works again without logging in anew.
    status, _body = client.post_form("/aliases/new/", {k: v for k, v in form.items() if k != "csrfmiddlewaretoken"})
    assert status == 302
    assert live.sql("SELECT count(*) FROM alias WHERE address = 'during@outage.example'") == "1"
    assert live.sql("SELECT count(*) FROM audit_entry WHERE action = 'alias.create'") == "1"


def test_parallel_http_creations_never_exceed_the_limit(live):
    assert live.manage("domain", "add", "limits.example", "--max-aliases", "5").returncode == 0
    domain_id = live.sql("SELECT id FROM domain WHERE name = 'limits.example'")
    clients = []
    for _ in range(20):
        client = Browserless(live.url)
        client.login("root", PASSWORD)
        clients.append((client, client.csrf("/aliases/new/")))
    barrier = threading.Barrier(len(clients))
    statuses = [None] * len(clients)

    def post(i):
        client, token = clients[i]
        barrier.wait()
        statuses[i] = client.request("POST", "/aliases/new/", {
            "csrfmiddlewaretoken": token, "domain": domain_id, "local_part": f"a{i}",
            "destinations": "x@elsewhere.example", "active": "on"})[0]

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses.count(302) == 5          # created, redirected to the list
    assert statuses.count(200) == 15         # the form again, with the limit error
    assert live.sql(f"SELECT count(*) FROM alias WHERE domain_id = {domain_id}") == "5"
