"""Dhanwantari settings: one module, configured from the environment.

Every variable is documented in `.env.example`. Nothing secret has a default
outside DEBUG: with DEBUG off the process refuses to start without SECRET_KEY.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is optional; the real environment always wins over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.") from exc

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: `runserver` then serves HTTP and websockets from one process.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    # The project package is an app too: site-wide pages, commands (seed_demo)
    # and the shared abstract models. It owns no tables.
    "dhanwantari",
    "accounts",
    "patients",
    "doctors",
    "consultations",
    "prescriptions",
    "records",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files need no policy of their own.
    "dhanwantari.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication, so it knows who the response is for.
    "dhanwantari.middleware.PrivateCacheMiddleware",
    "accounts.middleware.IdleSessionTimeoutMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Sign-in required everywhere except PUBLIC_URL_NAMES (see the hardening block).
    "dhanwantari.middleware.DenyByDefaultMiddleware",
    "accounts.middleware.StaffMFARequiredMiddleware",
]

ROOT_URLCONF = "dhanwantari.urls"
WSGI_APPLICATION = "dhanwantari.wsgi.application"
ASGI_APPLICATION = "dhanwantari.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dhanwantari.context_processors.site",
                "accounts.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
_db["CONN_HEALTH_CHECKS"] = True

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Our SQLite backend adds NOW() so the schema document's sample queries
    # run verbatim on the embedded database too.
    _db["ENGINE"] = "dhanwantari.db_backends.sqlite3"
elif _db["ENGINE"] in ("django.db.backends.mysql",):
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].update(
        {
            "charset": "utf8mb4",
            "isolation_level": "read committed",
            # An unreachable server fails a connect in seconds, not the OS's TCP timeout
            # (a socket's save then answers "unavailable" instead of hanging).
            "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=5),
            # Strict mode refuses truncated or invalid data instead of warning.
            # The session time zone is UTC because Django stores UTC datetimes
            # in DATETIME columns; NOW() in the spec's sample queries must agree.
            "init_command": (
                "SET sql_mode='STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
                "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',"
                " time_zone='+00:00'"
            ),
        }
    )
    if env.bool("DB_SSL", default=False):
        # Refuse a plain-text connection; verify the server against DB_SSL_CA if given.
        _db["OPTIONS"]["ssl_mode"] = "REQUIRED"
        if env.str("DB_SSL_CA", default=""):
            _db["OPTIONS"]["ssl"] = {"ca": env.str("DB_SSL_CA")}
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer ---------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
# With Redis: "pubsub" (RedisPubSubChannelLayer: Redis pub/sub) or "redis"
# (RedisChannelLayer: channels as lists, groups as sorted sets). Both carry the room
# between daphne processes. pubsub is the default by measurement (`make bench`, the
# room's consumer, 2 cores, scale-1 data): 140 against 110 messages/s at saturation,
# and at 100 msg/s a round-trip p50 of 20 ms against 846 ms; the fault tests (Redis
# restarted mid-chat) lose nothing on either.
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="pubsub")
if CHANNEL_LAYER not in ("redis", "pubsub"):
    raise ImproperlyConfigured(f"CHANNEL_LAYER must be 'redis' or 'pubsub', not {CHANNEL_LAYER!r}.")
# RedisChannelLayer keeps every socket of one daphne process in ONE Redis key and
# drops a group message (room.message, receipts) once that key holds `capacity`
# undelivered events; its default of 100 is reached by a few hundred busy sockets
# per process (the chat benchmark at saturation lost messages to it; the database
# kept them). Sized for thousands of sockets per process; events expire after 60 s.
CHANNEL_CAPACITY = env.int("CHANNEL_CAPACITY", default=5000)
# The benchmark's bare page and bare consumer (bench/urls.py, bench/routing.py): never in production.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": (
                "channels_redis.pubsub.RedisPubSubChannelLayer"
                if CHANNEL_LAYER == "pubsub"
                else "channels_redis.core.RedisChannelLayer"
            ),
            "CONFIG": (
                {"hosts": [REDIS_URL]}
                if CHANNEL_LAYER == "pubsub"
                else {"hosts": [REDIS_URL], "capacity": CHANNEL_CAPACITY}
            ),
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts ---------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # allauth's (email or phone with password), refusing soft-deleted accounts.
    "accounts.backends.AuthenticationBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm", "login": "accounts.forms.LoginForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
# Email or phone: neither is required alone, the signup form requires one of them.
ACCOUNT_SIGNUP_FIELDS = ["email", "phone", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# Several addresses (add, verify, make primary, remove) rather than allauth's
# "change" mode, which empties users.email while the new address is unverified.
ACCOUNT_CHANGE_EMAIL = False
ACCOUNT_MAX_EMAIL_ADDRESSES = 2
ACCOUNT_PREVENT_ENUMERATION = True
# Signing in does not wait for the email link; booking does (consultations checks it).
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 1
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Dhanwantari: "
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this session stays; every other one ends
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "accounts.tokens.RecordedPasswordResetTokenGenerator"  # noqa: S105
PASSWORD_RESET_TIMEOUT = 60 * 60  # reset links live one hour
ACCOUNT_EMAIL_NOTIFICATIONS = True  # "your password was changed" and the like
# Changing email, phone or password, or closing the account, needs the password
# again unless the person signed in within the last five minutes.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 5 * 60
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 3
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60
# An integer here is the number of resends allowed (True would mean 2).
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = 3
ACCOUNT_RATE_LIMITS = {
    # Per-account lockout is ours (users.failed_login_attempts / locked_until);
    # allauth keeps only the per-IP brake on guessing.
    "login_failed": "10/m/ip",
    "verify_phone": "1/30s/key,5/m/ip",
}
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Dhanwantari"
# Client IPs (rate limits, lockout audit, login tracking) are read behind this
# many trusted proxies: the address the nearest trusted proxy saw, so a forged
# X-Forwarded-For from the client cannot change it. 0 = use REMOTE_ADDR.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SILENCED_SYSTEM_CHECKS = [
    # ACCOUNT_SIGNUP_FIELDS marks neither email nor phone required because the
    # form requires one of the two (accounts.forms.SignupForm).
    "account.W001",
    # MariaDB has no partial unique indexes, so allauth's "one verified owner
    # per address" constraint is not created there. users.email is unique in
    # our own table, and allauth checks addresses in code (ACCOUNT_UNIQUE_EMAIL).
    "models.W036",
]

# Our own account rules (accounts.services).
LOGIN_LOCK_THRESHOLD = 5  # failed sign-ins for one account …
LOGIN_LOCK_WINDOW = 15 * 60  # … within this many seconds …
LOGIN_LOCK_DURATION = 15 * 60  # … lock it for this long.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=60 * 60 * 2)
STAFF_SESSION_IDLE_TIMEOUT = env.int("STAFF_SESSION_IDLE_TIMEOUT", default=60 * 20)
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

# SMS: "console" prints messages (development); "http" posts them to a gateway.
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_SENDER_ID = env.str("SMS_SENDER_ID", default="DHNWTR")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)

# Background work: immediate (in-process) unless TASKS_BACKEND=database, where
# `manage.py db_worker` runs the queue.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if env.str("TASKS_BACKEND", default="immediate") == "database"
            else "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# --- Internationalisation -------------------------------------------------

LANGUAGE_CODE = "en-in"
# Shown to people in this zone by default; always stored in UTC.
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Uploaded medical files are private: no URL pattern serves MEDIA_ROOT and the
# production proxy must not either; downloads go through a permission-checked
# view. MEDIA_URL only names the prefix (Django's test server needs one).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"

# Uploaded files readable by the app's user and group only.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ----------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Dhanwantari <no-reply@dhanwantari.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the page JS reads it for fetch() calls
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Behind a TLS-terminating proxy (nginx), trust its scheme header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Product --------------------------------------------------------------

SITE_NAME = "Dhanwantari"
# Absolute links in emails sent outside a request (background tasks).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
EMERGENCY_NUMBER = env.str("EMERGENCY_NUMBER", default="112")

# --- AI intake assistant (consultations.intake) ----------------------------
# "local": the built-in offline engine (deterministic; no network). "openai":
# any OpenAI-compatible /chat/completions endpoint words the questions; the
# local engine still decides what is asked and carries on if it fails.
AI_PROVIDER = env.str("AI_PROVIDER", default="local")
AI_BASE_URL = env.str("AI_BASE_URL", default="https://api.openai.com/v1")
AI_API_KEY = env.str("AI_API_KEY", default="")
AI_MODEL = env.str("AI_MODEL", default="gpt-4o-mini")
# Seconds to connect, and for the whole reply including streaming.
AI_CONNECT_TIMEOUT_SECONDS = env.float("AI_CONNECT_TIMEOUT_SECONDS", default=5.0)
AI_TIMEOUT_SECONDS = env.float("AI_TIMEOUT_SECONDS", default=20.0)
# The assistant's account (sender of its messages); made on first use, cannot sign in.
AI_ASSISTANT_EMAIL = env.str("AI_ASSISTANT_EMAIL", default="assistant@dhanwantari.invalid")
DEFAULT_CURRENCY = "INR"
# A slot must start at least this far ahead to be offered for booking.
BOOKING_MIN_NOTICE_MINUTES = env.int("BOOKING_MIN_NOTICE_MINUTES", default=60)

# Cancellation and rescheduling policy (consultations.policy reads these).
# A patient cancelling at least CANCEL_FULL_REFUND_HOURS before the start gets
# everything back; later, CANCEL_LATE_REFUND_PERCENT of the fee. A doctor's or
# staff cancellation always refunds in full. A patient may move a booking up to
# RESCHEDULE_MIN_HOURS before it starts, at most RESCHEDULE_MAX times.
CANCEL_FULL_REFUND_HOURS = env.int("CANCEL_FULL_REFUND_HOURS", default=24)
CANCEL_LATE_REFUND_PERCENT = env.int("CANCEL_LATE_REFUND_PERCENT", default=50)
RESCHEDULE_MIN_HOURS = env.int("RESCHEDULE_MIN_HOURS", default=4)
RESCHEDULE_MAX = env.int("RESCHEDULE_MAX", default=2)
# The patient may enter the waiting room this many minutes before the start.
WAITING_ROOM_OPENS_MINUTES = env.int("WAITING_ROOM_OPENS_MINUTES", default=10)

# Payments: "offline" (the clinic records payments with a receipt number) is
# the default; "razorpay" takes online payments through Razorpay Checkout.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="offline")
RAZORPAY_KEY_ID = env.str("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env.str("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env.str("RAZORPAY_WEBHOOK_SECRET", default="")
RAZORPAY_API_BASE = env.str("RAZORPAY_API_BASE", default="https://api.razorpay.com")
RAZORPAY_CHECKOUT_JS = env.str("RAZORPAY_CHECKOUT_JS", default="https://checkout.razorpay.com/v1/checkout.js")
RAZORPAY_TIMEOUT = env.float("RAZORPAY_TIMEOUT", default=10.0)

# --- Medical records ------------------------------------------------------
# records/ (file_uploads): what one uploaded file may weigh, how many go in one
# upload, and OCR. The type allow-list and the pixel limit are constants in
# dhanwantari/uploads.py: nothing about a deployment should loosen them.
RECORDS_MAX_UPLOAD_BYTES = env.int("RECORDS_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
RECORDS_MAX_FILES_PER_UPLOAD = env.int("RECORDS_MAX_FILES_PER_UPLOAD", default=10)
# Tesseract reads images and scanned PDF pages (pdftoppm renders the pages);
# a digital PDF's own text layer is read with or without it. Off, or with the
# binary missing, files say "OCR engine not installed" and nothing else changes.
RECORDS_OCR = env.bool("RECORDS_OCR", default=True)
RECORDS_OCR_LANGUAGES = env.str("RECORDS_OCR_LANGUAGES", default="eng+hin")
RECORDS_TESSERACT_CMD = env.str("RECORDS_TESSERACT_CMD", default="tesseract")
RECORDS_PDFTOPPM_CMD = env.str("RECORDS_PDFTOPPM_CMD", default="pdftoppm")
RECORDS_OCR_MAX_PAGES = env.int("RECORDS_OCR_MAX_PAGES", default=20)
RECORDS_OCR_TIMEOUT = env.int("RECORDS_OCR_TIMEOUT", default=120)  # seconds per image or page
# Files live on local disk (MEDIA_ROOT) unless a bucket is named: then on
# S3-compatible object storage through django-storages. The bucket must be
# private; the app never hands out its URLs (downloads stream through
# records.views.file_serve), so no ACL is set and no public URL is built.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Credentials may also come from the instance role (boto3 finds them).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # For S3-compatible services (MinIO, Cloudflare R2, DigitalOcean Spaces …).
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "location": env.str("AWS_LOCATION", default="media"),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 60,
        },
    }

# --- Consultation room ----------------------------------------------------
# The websocket protocol's limits (consultations.protocol, consumers): the
# largest frame accepted, in UTF-8 bytes, checked before parsing (an SDP offer
# is a few KB; 5000 characters of Devanagari are ~15 KB); chat messages per
# minute per socket, with bursts; and all frames per minute (ICE candidates
# arrive in bursts at call start).
ROOM_MAX_FRAME_BYTES = env.int("ROOM_MAX_FRAME_BYTES", default=32 * 1024)
# Threads per daphne process for the room's database work (consultations.consumers.on_db).
ROOM_DB_THREADS = env.int("ROOM_DB_THREADS", default=8)
ROOM_MESSAGES_PER_MINUTE = env.int("ROOM_MESSAGES_PER_MINUTE", default=30)
ROOM_MESSAGES_BURST = env.int("ROOM_MESSAGES_BURST", default=10)
ROOM_FRAMES_PER_MINUTE = env.int("ROOM_FRAMES_PER_MINUTE", default=600)
ROOM_FRAMES_BURST = env.int("ROOM_FRAMES_BURST", default=120)

# --- Calls (WebRTC) --------------------------------------------------------
# ICE servers handed to the room page for audio and video calls
# (consultations.calls). STUN always; TURN when TURN_URLS is set, with
# short-lived credentials from TURN_SHARED_SECRET (coturn `use-auth-secret`,
# the TURN REST API scheme) or, without a secret, a static TURN_USERNAME and
# TURN_PASSWORD. TURN_CREDENTIAL_TTL: seconds a TURN credential stays valid
# (it is minted when the room's socket connects, so it covers a page left open).
# No default STUN server: a public one learns every caller's address, so
# choosing one is the operator's decision (.env.example suggests one).
STUN_URLS = env.list("STUN_URLS", default=[])
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SHARED_SECRET = env.str("TURN_SHARED_SECRET", default="")
TURN_USERNAME = env.str("TURN_USERNAME", default="")
TURN_PASSWORD = env.str("TURN_PASSWORD", default="")
TURN_CREDENTIAL_TTL = env.int("TURN_CREDENTIAL_TTL", default=6 * 3600)

# --- Column encryption (dhanwantari.crypto) ----------------------------------
# Fernet keys for the encrypted free-text columns (medical and family history,
# clinical notes, the AI summary, diagnosis and advice), comma-separated, newest
# first: the first encrypts, all decrypt. Rotate by putting a new key in front,
# running `manage.py rotate_encryption_keys`, then removing the old key. With
# DEBUG on and no keys, a dev-only key is derived from SECRET_KEY; with DEBUG
# off and no keys, the process refuses to start (load_keys raises).
from dhanwantari.crypto import load_keys  # noqa: E402  (the block's own helper; imports no settings)

FIELD_ENCRYPTION_KEYS = load_keys(env.list("FIELD_ENCRYPTION_KEYS", default=[]), debug=DEBUG, secret_key=SECRET_KEY)

# --- Data protection: export, erasure, retention, backups -------------------
# How long the link to a "Download my data" archive works; purge_expired then
# deletes the archive.
EXPORT_LINK_HOURS = env.int("EXPORT_LINK_HOURS", default=24)
# purge_expired (run daily): read notifications older than this go.
RETENTION_READ_NOTIFICATIONS_DAYS = env.int("RETENTION_READ_NOTIFICATIONS_DAYS", default=90)
# Files a patient removed from their records (and documents a doctor removed)
# stay restorable by staff this long, then their bytes and rows are purged.
RETENTION_DELETED_FILES_DAYS = env.int("RETENTION_DELETED_FILES_DAYS", default=30)
# manage.py backup writes here unless given --output.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "backups")

# --- Hardening: deny by default, CSP, caching of medical pages --------------
# Every URL needs a signed-in person (dhanwantari.middleware.DenyByDefaultMiddleware)
# except these, by URL name. This is the one list of public pages: adding one
# is a deliberate change, and dhanwantari/tests/test_url_access.py lists them
# again so that it shows up in review.
PUBLIC_URL_NAMES = frozenset(
    {
        "home",
        "healthz",
        # The doctor directory, listed doctors' pages and photos (the views
        # answer 404 for doctors who are not listed).
        "doctors:directory",
        "doctors:public_profile",
        "doctors:doctor_photo",
        # What a pharmacy opens from the code or QR on a printed prescription.
        "prescriptions:verify_lookup",
        "prescriptions:verify",
        # Server to server; the view checks Razorpay's signature instead.
        "payments:razorpay_webhook",
        # Signing up and in, verifying an address or phone, resetting a password,
        # the second factor at sign-in. Not the account pages behind them
        # (email, password change, MFA settings, reauthentication).
        "account_signup",
        "account_signup_doctor",
        "account_login",
        "account_confirm_login_code",
        "account_inactive",
        "account_email_verification_sent",
        "account_confirm_email",
        "account_verify_phone",
        "account_reset_password",
        "account_reset_password_done",
        "account_reset_password_from_key",
        "account_reset_password_from_key_done",
        "mfa_authenticate",
        # The staff console's own sign-in (it forwards to account_login).
        "admin:login",
    }
)

# A load balancer's health probe often speaks plain HTTP to the app port:
# answer it there rather than redirecting it to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content-Security-Policy (django-csp, through dhanwantari.middleware, which
# adds this host's websocket origin to connect-src per request). No inline
# script or style anywhere: pages load /static/js modules and /static/css.
# The doctor photo preview and the MFA QR code are data:/blob: images; the
# room's camera preview is a blob:/MediaStream (getUserMedia and WebRTC are
# not governed by CSP).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
# With PAYMENT_PROVIDER=razorpay, only these pages may load Razorpay Checkout
# (the script's origin comes from RAZORPAY_CHECKOUT_JS), frame its payment
# window and let it call home.
CSP_RAZORPAY_PAGES = frozenset({"payments:pay"})
CSP_RAZORPAY_FRAME_SRC = ["https://api.razorpay.com"]
CSP_RAZORPAY_CONNECT_SRC = ["https://api.razorpay.com", "https://lumberjack.razorpay.com"]

# HSTS preloading binds the domain and every subdomain to HTTPS in browsers'
# built-in lists, for months after it is undone: the operator's decision
# (SECURE_HSTS_PRELOAD), so `check --deploy` does not warn that it is off.
if not DEBUG and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
