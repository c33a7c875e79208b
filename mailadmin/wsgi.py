"""WSGI entry point for gunicorn: `gunicorn mailadmin.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
application = get_wsgi_application()
