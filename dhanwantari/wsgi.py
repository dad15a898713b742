"""WSGI entry point: production pages are served by gunicorn through this."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dhanwantari.settings")

application = get_wsgi_application()
