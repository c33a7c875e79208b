"""WSGI entry point for gunicorn: `gunicorn mailadmin.wsgi`.

gunicorn.conf.py preloads this module in the master process, so what is loaded here is
shared by every worker forked from it, including the workers that replace recycled ones."""
import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
application = get_wsgi_application()


def warm_up() -> int:
    """Load what Django otherwise loads on a worker's first requests: the URL configuration
    (which imports every view and builds the API's schemas), the reverse-lookup tables, the
    translation catalogues and the panel's compiled templates. Opens no database connection.
    Returns the number of templates compiled."""
    from django.conf import settings
    from django.template import engines
    from django.urls import get_resolver
    from django.utils import translation

    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        translation.trans_real.translation(code)
        # The reverse-lookup tables are kept per active language: build each language's.
        with translation.override(code):
            resolver.reverse_dict  # noqa: B018
    engine = engines["django"]
    compiled = 0
    base = Path(settings.BASE_DIR)
    for folder in [base / "templates", *base.glob("*/templates")]:
        for path in folder.rglob("*.html"):
            engine.get_template(str(path.relative_to(folder)))
            compiled += 1
    return compiled


warm_up()
