"""Centralino settings, all read from the environment (see `.env.example`).

PostgreSQL (`DATABASE_URL`) and Redis (`REDIS_URL`) are required: there is one stack, the same everywhere.
`make run` starts embedded ones (real servers from pip wheels, see `callcenter/embedded.py`) when they are unset
and passes their URLs to every process; anything started by hand needs them set.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The variables in .env fill in what the environment leaves unset (ENV_FILE names another file).
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE)

SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-change-me-" + "x" * 32)
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "simple_history",
    "channels",
    "core",
    "billing",
    "accounts",
    "agents",
    "routing",
    "telephony",
    "acd",
    "boards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # the audit trail's who and via (core/audit.py)
]
# The audit trail is a record, not an undo button: reverting from it would bypass the action functions.
SIMPLE_HISTORY_REVERT_DISABLED = True

ROOT_URLCONF = "callcenter.urls"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "callcenter.asgi.application"

# --- Data stores -------------------------------------------------------------
def required_url(name: str, example: str) -> str:
    """A service URL the project cannot run without, or a message that says how to get one."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. `make run` starts PostgreSQL and Redis for you (embedded, from pip wheels, "
            f"when DATABASE_URL and REDIS_URL are unset) and passes their URLs to every process; to run "
            f"manage.py, celery or uvicorn yourself, set it, e.g. {name}={example} (see .env.example).")
    return value


DATABASES = {"default": env.db_url_config(required_url("DATABASE_URL", "postgres://postgres@127.0.0.1/centralino"))}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # The ACD's guarantees live in PostgreSQL (SKIP LOCKED, partial unique indexes, conditional upserts).
    raise ImproperlyConfigured(
        f"DATABASE_URL must be a PostgreSQL URL (postgres://…), not {DATABASES['default']['ENGINE']}")
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# Server-side binding lets psycopg prepare the ACD's hot statements after a few runs: the planner's
# work on the routing queries is then done once per connection, not once per call.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "server_side_binding", env.bool("DB_SERVER_SIDE_BINDING", default=False))

REDIS_URL = required_url("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        # channels-redis, fixed so a closing socket cannot lose another socket's message (see the module).
        "BACKEND": "core.channel_layer.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env.str("CHANNELS_PREFIX", default="centralino"),
                   # A server behind a burst must not drop events: the limit counts the messages waiting
                   # for one server process (all its sockets share one Redis queue) and for one socket.
                   "capacity": env.int("CHANNELS_CAPACITY", default=1000)},
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Auth ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env.bool("FAST_PASSWORD_HASHER", default=False):
    # Tests only: the default PBKDF2 cost makes thousands of operator fixtures slow.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "admin:login"

# --- I18N ---------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("it", _("Italian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
PROMPT_MAX_BYTES = env.int("PROMPT_MAX_BYTES", default=5 * 1024 * 1024)
PROMPT_MAX_SECONDS = env.int("PROMPT_MAX_SECONDS", default=300)
DATA_UPLOAD_MAX_MEMORY_SIZE = PROMPT_MAX_BYTES + 1024 * 1024

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.AccountTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.IsAccountMember"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Centralino API",
    "DESCRIPTION": "Integrator API of the Centralino contact-center back office. "
    "Every object belongs to the account of the API token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"CriterionEnum": "routing.choices.Criterion",
                            "OverflowActionEnum": "routing.choices.OverflowAction"},
}

# --- Product defaults ---------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="centralino-demo")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="centralino@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
TELEPHONY_BACKEND = env.str("TELEPHONY_BACKEND", default="simulator")

# Timers are database timestamps swept every second (never Celery ETAs: Redis redelivery runs those twice).
CELERY_BEAT_SCHEDULE = {
    # A sweep still queued after 5 s is dropped: the next one, a second later, does the same work.
    "acd-sweep-timers": {"task": "acd.tasks.sweep_timers_task", "schedule": 1.0, "options": {"expires": 5}},
}
# A held channel whose call shows no sign of life for this long is freed by the reconciler.
CHANNEL_LEASE_SECONDS = env.int("CHANNEL_LEASE_SECONDS", default=4 * 3600)
CELERY_BEAT_SCHEDULE["billing-reconcile-leases"] = {"task": "billing.tasks.reconcile_leases_task",
                                                    "schedule": 60.0}
# Processed engine events (the redelivery guard) and outbound commands are kept this long, then purged in
# batches. Must be longer than the webhook's 300 s replay window (a system check refuses a shorter one).
TELEPHONY_EVENT_RETENTION_HOURS = env.float("TELEPHONY_EVENT_RETENTION_HOURS", default=72)
CELERY_BEAT_SCHEDULE["telephony-purge-port-records"] = {"task": "telephony.tasks.purge_port_records_task",
                                                        "schedule": 3600.0, "options": {"expires": 1800}}
CELERY_BEAT_SCHEDULE["billing-issue-invoices"] = {"task": "billing.tasks.issue_invoices_task",
                                                  "schedule": 6 * 3600.0}
