"""The French catalogue: compiled, in sync with its source, and used by the pages."""
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale/fr/LC_MESSAGES/django.po"
MO = ROOT / "locale/fr/LC_MESSAGES/django.mo"


def test_catalogue_compiles_and_the_mo_is_current(tmp_path):
    fresh = tmp_path / "django.mo"
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", str(fresh), str(PO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr
    assert "untranslated" not in result.stderr, f"the French catalogue is incomplete: {result.stderr}"
    assert fresh.read_bytes() == MO.read_bytes(), "run msgfmt: locale/fr/LC_MESSAGES/django.mo is stale"


@pytest.mark.parametrize("english, french", [
    ("Dashboard", "Tableau de bord"), ("Mailboxes", "Boîtes aux lettres"), ("Domains", "Domaines"),
    ("Log out", "Se déconnecter"), ("Password", "Mot de passe"), ("Audit log", "Journal d'audit"),
])
def test_navigation_is_translated(english, french):
    with translation.override("fr"):
        assert translation.gettext(english) == french


@pytest.mark.django_db
def test_a_french_page_renders_french(client, superadmin):
    client.force_login(superadmin)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in page and "Tableau de bord" in page and "Boîtes aux lettres" in page
