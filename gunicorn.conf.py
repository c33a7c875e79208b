"""gunicorn settings, from the environment: `gunicorn mailadmin.wsgi` picks this file up."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# The application is imported once, in the master, and every worker is forked from it warm
# (mailadmin/wsgi.py also loads the URL configuration and the templates there). Without this,
# each worker imports Django, the URL configuration and the API's schemas on its first request,
# and again each time it is recycled below: under load that was a quarter of the CPU. A code
# upgrade therefore needs `systemctl restart`, not a reload (docs/deploy.md).
preload_app = True
# Recycle workers now and then, so a slow leak never becomes an outage.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Logs on stdout/stderr for the service manager; the access log is opt-out.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": %(B)s, "ms": %(M)s}'
# TLS ends at the reverse proxy; trust its X-Forwarded-* only from these addresses.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
