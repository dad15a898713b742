"""pytest plugin loaded (`-p`) before Django reads its settings.

Tests run with production defaults (DEBUG off), so they need a SECRET_KEY and
a column-encryption key (FIELD_ENCRYPTION_KEYS); throwaway ones are set here
unless the environment gives them, so a `.env` made before a setting existed
does not break the suite. DATABASE_URL and REDIS_URL pass through untouched:
`.ci/run` points them at MariaDB and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# base64 of b"test-only-key-not-for-production": a valid Fernet key, never a real one.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
