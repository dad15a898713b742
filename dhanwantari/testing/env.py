"""pytest plugin loaded (`-p`) before Django reads its settings.

Tests run with production defaults (DEBUG off), so they need a SECRET_KEY; a
throwaway one is set here unless the environment gives one. DATABASE_URL and
REDIS_URL pass through untouched: `.ci/run` points them at MariaDB and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
