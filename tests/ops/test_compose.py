"""docker-compose.yml is valid (Debian's docker-compose parses it) and agrees with the
configuration `mailconfig` generates for it: hosts, ports, paths and volumes line up."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is not installed: bin/test installs it (deps/apt-test.txt)")
    # A clean environment: the values must come from .env.example, not from this process.
    result = subprocess.run(["docker-compose", "--env-file", ".env.example", "-f", "docker-compose.yml", "config"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/local/bin:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    # docker-compose runs on Debian's python3, which has PyYAML: let it turn the YAML into JSON.
    as_json = subprocess.run(["/usr/bin/python3", "-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                             input=result.stdout, capture_output=True, text=True, check=True)
    return json.loads(as_json.stdout)


def published(service) -> set[int]:
    return {int(p["published"]) if isinstance(p, dict) else int(str(p).split(":")[-2]) for p in service.get("ports", [])}


def test_services_volumes_ports(compose):
    services = compose["services"]
    assert set(services) == {"db", "panel", "postfix", "dovecot"}
    assert set(compose["volumes"]) >= {"dbdata", "mailstore", "mailconfig"}
    assert {25, 587} <= published(services["postfix"])
    assert 993 in published(services["dovecot"])
    panel_ports = services["panel"]["ports"]
    assert all((p.get("host_ip") if isinstance(p, dict) else str(p).split(":")[0]) == "127.0.0.1" for p in panel_ports)
    for name in ("db", "panel", "postfix", "dovecot"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert "5432" not in json.dumps(services["db"].get("ports", []))  # the database is not published
    secrets = services["panel"]["environment"]
    assert secrets["DJANGO_SECRET_KEY"].startswith("change-me") and "DATABASE_URL" in secrets


def test_the_panel_trusts_only_the_gateway_as_proxy(compose):
    """The host's nginx reaches the published port through the network's gateway: its
    X-Forwarded-For is believed (login throttling per client), nobody else's."""
    import ipaddress

    trusted = compose["services"]["panel"]["environment"]["MAILADMIN_TRUSTED_PROXIES"]
    network = compose["networks"]["default"]["ipam"]["config"][0]
    assert trusted == network["gateway"]
    assert ipaddress.ip_address(trusted) in ipaddress.ip_network(network["subnet"])


def test_generated_configs_match_the_stack(compose, tmp_path, db):
    services = compose["services"]
    env = services["panel"]["environment"]
    entrypoint = (ROOT / "deploy/panel/entrypoint.sh").read_text()
    assert "manage.py dbroles" in entrypoint and "manage.py mailconfig --out /etc/mailadmin" in entrypoint
    call_command("mailconfig", out=str(tmp_path), db_host=env["MAILADMIN_DB_HOST"], db_port=int(env["MAILADMIN_DB_PORT"]),
                 db_name=env["MAILADMIN_DB_NAME"], reader_password="r", quota_password="q",
                 mail_root=env["MAILADMIN_MAIL_ROOT"], uid=int(env["MAILADMIN_VMAIL_UID"]),
                 gid=int(env["MAILADMIN_VMAIL_GID"]), vmail_group="vmail")
    # The dict socket's group is the dovecot image's vmail group (gid 5000 has no name in the panel's image).
    assert "--vmail-group vmail" in entrypoint
    assert "groupadd --gid 5000 vmail" in (ROOT / "deploy/dovecot/Dockerfile").read_text()
    # Postfix and Dovecot reach the database service by its compose name and port.
    assert env["MAILADMIN_DB_HOST"] in services and services["db"]["environment"]["POSTGRES_DB"] == env["MAILADMIN_DB_NAME"]
    assert "hosts = inet:db:5432" in (tmp_path / "postfix/virtual_mailbox_maps.cf").read_text()
    # Mail lives where Dovecot's volume is mounted.
    dovecot_mounts = {v["target"] if isinstance(v, dict) else v.split(":")[1]: v for v in services["dovecot"]["volumes"]}
    assert env["MAILADMIN_MAIL_ROOT"] in dovecot_mounts
    assert f"'{env['MAILADMIN_MAIL_ROOT']}/' || m.maildir" in (tmp_path / "dovecot/dovecot-sql.conf.ext").read_text()
    # Both mail servers mount the generated files where their configuration includes them.
    for name in ("postfix", "dovecot"):
        targets = [v["target"] if isinstance(v, dict) else v.split(":")[1] for v in services[name]["volumes"]]
        assert "/etc/mailadmin" in targets
    local_conf = (ROOT / "deploy/dovecot/local.conf").read_text()
    assert "!include /etc/mailadmin/dovecot/conf.snippet" in local_conf
    # Postfix hands mail to Dovecot's LMTP listener and asks its auth service for SASL.
    lmtp_port = re.search(r"inet_listener lmtp \{\s*port = (\d+)", local_conf).group(1)
    assert services["postfix"]["environment"]["MAILADMIN_LMTP"] == f"inet:dovecot:{lmtp_port}"
    sasl_port = re.search(r"service auth \{\s*inet_listener \{\s*port = (\d+)", local_conf).group(1)
    assert services["postfix"]["environment"]["MAILADMIN_SASL"] == f"inet:dovecot:{sasl_port}"
    dockerfile = (ROOT / "deploy/dovecot/Dockerfile").read_text()
    assert f"--uid {env['MAILADMIN_VMAIL_UID']}" in dockerfile and f"--gid {env['MAILADMIN_VMAIL_GID']}" in dockerfile


def test_env_example_names_every_required_variable(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    defined = {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert required <= defined, required - defined
