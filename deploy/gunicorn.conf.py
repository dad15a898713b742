"""gunicorn settings for the pages (WSGI); daphne serves only /ws/ (deploy/nginx.conf).

    gunicorn -c deploy/gunicorn.conf.py dhanwantari.wsgi:application

Sync workers: Django's middleware is synchronous, each worker holds one persistent
database connection (CONN_MAX_AGE=60 with CONN_HEALTH_CHECKS, safe under WSGI) and
nginx buffers slow clients, so a worker is never tied up by one. Command-line flags
(--workers, --bind) override these values; so do the GUNICORN_* variables below.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# (2 x cores) + 1 is gunicorn's rule of thumb for sync workers doing I/O-bound pages.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Prescription PDFs and record uploads (up to 100 MB behind nginx's buffering) stay well below this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5  # nginx keeps upstream connections open (upstream keepalive)
# Recycle workers now and then (jitter so they do not all restart at once).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# The app is imported once in the master and forked: less memory, faster restarts.
# Database connections are opened lazily per worker, never in the master.
preload_app = True
forwarded_allow_ips = "127.0.0.1"  # X-Forwarded-* from the local nginx only
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # nginx keeps the access log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "warning")
proc_name = "dhanwantari-web"
