"""Centralino settings, all read from the environment (see `.env.example`).

PostgreSQL (`DATABASE_URL`) and Redis (`REDIS_URL`) are required: there is one stack, the same everywhere.
`make run` starts embedded ones (real servers from pip wheels, see `callcenter/embedded.py`) when they are unset
and passes their URLs to every process; anything started by hand needs them set.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.dbbounds import bounded_connection_class, server_options

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The variables in .env fill in what the environment leaves unset (ENV_FILE names another file).
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE)

# Production unless asked: DEBUG shows tracebacks with settings and form data (an operator's new password) in
# them. `make run`'s demo mode and the test settings ask for it; a deployment never does.
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY to a long random value shared by every "
            "process (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or DEBUG=true on "
            "a development machine (`make run` does this for its demo).")
    SECRET_KEY = "dev-insecure-" + "x" * 40  # DEBUG only: never signs anything a deployment trusts
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS ----------------------------------------------------------------------
# Behind a TLS-terminating proxy (the production layout): the proxy says the request was HTTPS with
# X-Forwarded-Proto, and everything below follows from HTTPS=true (the default when DEBUG is off).
HTTPS = env.bool("HTTPS", default=not DEBUG)
if env.bool("BEHIND_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served by the project (the docs work offline)
    "django_celery_beat",
    "simple_history",
    "channels",
    "axes",
    "core",
    "budget",
    "billing",
    "accounts",
    "agents",
    "routing",
    "ivr",
    "telephony",
    "acd",
    "boards",
    "callcenter",  # wires the apps: the account's setup page, the demo data (loaddemo)
    "simulator",
    "dialer",
    "integrations",
    "import_export",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files without DEBUG (the admin's, the pages'): served by the web process itself, compressed and
    # cached forever under hashed names; a proxy in front may serve STATIC_ROOT instead.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Bodies and JSON nesting are bounded before any view parses them (core/limits.py).
    "core.limits.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.AccountTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # the audit trail's who and via (core/audit.py)
    # Last: locks out a client after repeated wrong admin passwords (django-axes; see Auth below).
    "axes.middleware.AxesMiddleware",
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
                "accounts.branding.branding",
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
# Django's PostgreSQL backend, with every wait for the server bounded on the client in every process
# (DB_CLIENT_TIMEOUT below; core/backends/postgresql/base.py).
DATABASES["default"]["ENGINE"] = "core.backends.postgresql"
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# The web workers (the Procfile sets DB_POOL for them) keep their PostgreSQL connections in a pool: an engine
# posts an event per call step, and opening a connection forks a server process, which cost more than the
# event itself. Under ASGI every request runs in a thread of its own, so Django's persistent connections
# (CONN_MAX_AGE) would open one connection per request thread and never close it: a pool is the way.
# A frozen database (a lock held forever, a statement that never ends) fails the statement, and its transaction,
# within these bounds (core/dbbounds.py): every request answers, 503 with Retry-After, never hangs. 0: no bound.
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=15.0)
DB_LOCK_TIMEOUT = env.float("DB_LOCK_TIMEOUT", default=5.0)
DB_CLIENT_TIMEOUT = env.float("DB_CLIENT_TIMEOUT", default=DB_STATEMENT_TIMEOUT + 5 if DB_STATEMENT_TIMEOUT else 20.0)
if env.bool("DB_POOL", default=False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses persistent connections together with a pool
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        # No check as a connection leaves the pool (Django's CONN_HEALTH_CHECKS): it would cost a round trip on
        # every engine event. One that died while idle (the server restarted) fails its first statement: that
        # request answers 503 with Retry-After, the pool discards the broken connection, and the retry gets a
        # live one (tests/faults/test_postgres_restarted.py).
        "min_size": env.int("DB_POOL_MIN", default=2), "max_size": env.int("DB_POOL_MAX", default=8),
        # PostgreSQL down or restarting: a request waits this long for a connection, then answers 503
        # (core/api/exceptions.py), instead of psycopg_pool's 30 s.
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
        # A server that accepted the connection and then froze (its processes stopped): every wait for it ends
        # within DB_CLIENT_TIMEOUT, the connection closed and replaced (core/dbbounds.py).
        "connection_class": bounded_connection_class(DB_CLIENT_TIMEOUT)}
# A server that does not answer (down, unreachable) fails a new connection within this many seconds.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
# Server-side binding lets psycopg prepare the ACD's hot statements after a few runs: the planner's
# work on the routing queries is then done once per connection, not once per call.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "server_side_binding", env.bool("DB_SERVER_SIDE_BINDING", default=False))
# Django turns psycopg's prepared statements off (for transaction-mode poolers); the call path's statements
# (acd.locks, the budget) ask for them explicitly and are planned once per connection. 0 turns them off.
DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", env.int("DB_PREPARE_THRESHOLD", default=5) or None)
# No JIT: the call path's statements are short, but their many gated branches add up to a cost estimate
# above jit_above_cost on a large floor, and compiling them took ~0.8 s per event (measured, 10,000 operators).
_server_options = server_options(statement_seconds=DB_STATEMENT_TIMEOUT, lock_seconds=DB_LOCK_TIMEOUT)
if not env.bool("DB_JIT", default=False):
    _server_options = f"-c jit=off {_server_options}".strip()
if _server_options:
    DATABASES["default"]["OPTIONS"].setdefault("options", _server_options)

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
# Redis down: queueing a task gives up within about a second (it runs after a commit, core/tasks.py logs it)
# instead of holding the request while kombu retries.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                    "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1}

# --- Auth ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env.bool("FAST_PASSWORD_HASHER", default=False):
    # Tests only: the default PBKDF2 cost makes thousands of operator fixtures slow.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "admin:login"

# Brute force. The admin's and the console's sign-ins go through django-axes: after AXES_FAILURE_LIMIT wrong
# passwords for one login from one address, that pair is refused for AXES_COOLOFF_MINUTES (lifted earlier by
# a superuser in the admin's "Access attempts", or for an operator by their supervisor); a success resets the
# count. Phone PINs (no address to key on) lock the operator's PIN itself (agents/lockout.py). Wrong API
# tokens are counted per address in the cache (accounts/api/authentication.py).
# AxesBackend refuses a locked-out login (and, being a ModelBackend, resolves sessions made by force_login);
# ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = AXES_COOLOFF_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
if env.bool("BEHIND_PROXY", default=not DEBUG):
    # The client's address is the one the proxy in front saw (the last hop it appended).
    AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=1)
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
PIN_FAILURE_LIMIT = env.int("PIN_FAILURE_LIMIT", default=5)
PIN_COOLOFF_MINUTES = env.int("PIN_COOLOFF_MINUTES", default=15)
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=20)  # wrong tokens per address and window
API_TOKEN_FAILURE_WINDOW_SECONDS = env.int("API_TOKEN_FAILURE_WINDOW_SECONDS", default=600)
# Shared by every process (throttle counters must be, with several web workers): Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": env.str("CHANNELS_PREFIX", default="centralino") + ":cache",
                      "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}

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


def public_base_url(value: str) -> str:
    """The address engines reach this web process at: every media URL in a command (an uploaded prompt) is
    made absolute with it, so an engine never guesses the host. http(s), a host, no query or fragment."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"PUBLIC_BASE_URL must be an http(s) URL with a host and no query, e.g. "
                                   f"https://centralino.example.com (got {value!r}).")
    return value.rstrip("/")


PUBLIC_BASE_URL = public_base_url(env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000"))
PROMPT_MAX_BYTES = env.int("PROMPT_MAX_BYTES", default=5 * 1024 * 1024)
PROMPT_MAX_SECONDS = env.int("PROMPT_MAX_SECONDS", default=300)
# Bounded bodies: a form or JSON body is read into memory up to this size (a 413 beyond); the whole request,
# file uploads included, is refused beyond REQUEST_MAX_BYTES; JSON nested deeper than JSON_MAX_DEPTH is a 400
# (core/limits.py). A proxy in front should cap bodies at REQUEST_MAX_BYTES too.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=PROMPT_MAX_BYTES + 1024 * 1024)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# Threads per web process that run engine events (webhook/edge.py): each holds one pooled connection while it
# works, so keep it at or under DB_POOL_MAX.
ENGINE_EDGE_THREADS = env.int("ENGINE_EDGE_THREADS", default=4)
# How long a web process may answer an engine's signature from the account's secret it read last, without asking
# PostgreSQL again (telephony/signers.py): also the bound, in seconds, within which a rotated webhook secret or a
# deactivated account is refused by every process. 0 asks on every event. And how many accounts it remembers.
ENGINE_SIGNER_CACHE_SECONDS = env.float("ENGINE_SIGNER_CACHE_SECONDS", default=2.0)
ENGINE_SIGNER_CACHE_SIZE = env.int("ENGINE_SIGNER_CACHE_SIZE", default=1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if not DEBUG
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Without collectstatic (a demo, the tests' servers) WhiteNoise finds the files where Django's finders do.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.AccountTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.IsAccountMember"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.BoundedLimitOffsetPagination",  # limit <= 500
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "accounts.api.filters.AccountScopedFilterBackend",  # choice filters: own account only
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    # Per API token (and per address without one); a throttle whose cache is down lets the request through.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttling.TokenRateThrottle",
                                 "accounts.api.throttling.AnonymousRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env.str("API_TOKEN_RATE", default="3000/minute"),
                               "anonymous": env.str("API_ANONYMOUS_RATE", default="120/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Centralino API",
    "DESCRIPTION": "Integrator API of the Centralino contact-center back office. "
    "Every object belongs to the account of the API token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "telephony.api.serializers.one_value_type_enums"],
    "ENUM_NAME_OVERRIDES": {"CriterionEnum": "routing.choices.Criterion",
                            "OverflowActionEnum": "routing.choices.OverflowAction",
                            "DispositionKindEnum": "dialer.choices.DispositionKind",
                            "OperatorStateEnum": "agents.choices.OperatorState",
                            "EventTypeEnum": "core.outgoing.EventType"},
}

# --- Product defaults ---------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="centralino-demo")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="centralino@localhost")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default="")  # for EMAIL_BACKEND=…filebased.EmailBackend

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
TELEPHONY_BACKEND = env.str("TELEPHONY_BACKEND", default="simulator")
# Engine URLs (webhook backend) a supervisor types are fetched by the workers: public addresses only, unless the
# platform runs its engines on a private network (core/netguard.py). Short timeouts: a slow engine must not hold
# a worker's slot (the timer sweep runs on the same workers).
ENGINE_URL_ALLOW_PRIVATE = env.bool("ENGINE_URL_ALLOW_PRIVATE", default=False)
ENGINE_URL_ALLOWED_HOSTS = env.list("ENGINE_URL_ALLOWED_HOSTS", default=[])
ENGINE_CONNECT_TIMEOUT = env.float("ENGINE_CONNECT_TIMEOUT", default=1.0)
ENGINE_READ_TIMEOUT = env.float("ENGINE_READ_TIMEOUT", default=2.0)

# Timers are database timestamps swept every second (never Celery ETAs: Redis redelivery runs those twice).
CELERY_BEAT_SCHEDULE = {
    # A sweep still queued after 5 s is dropped: the next one, a second later, does the same work.
    "acd-sweep-timers": {"task": "acd.tasks.sweep_timers_task", "schedule": 1.0, "options": {"expires": 5}},
}
# A held channel whose call shows no sign of life for this long is freed by the reconciler (engines that send no
# heartbeat: the call is ended as lost, its talk time cut at the last event the lease saw).
CHANNEL_LEASE_SECONDS = env.int("CHANNEL_LEASE_SECONDS", default=4 * 3600)
# Once an engine reports a call alive (`call_alive`, every 30 s say), silence this long ends it as lost instead.
LEASE_SILENCE_SECONDS = env.int("LEASE_SILENCE_SECONDS", default=120)
LEASE_RECONCILE_SECONDS = env.float("LEASE_RECONCILE_SECONDS", default=30.0)
# The entry keeps its name: django_celery_beat updates its row by name (a new name would leave the old row
# sending a task that no longer exists).
CELERY_BEAT_SCHEDULE["billing-reconcile-leases"] = {"task": "acd.tasks.reconcile_leases_task",
                                                    "schedule": LEASE_RECONCILE_SECONDS,
                                                    "options": {"expires": LEASE_RECONCILE_SECONDS}}
# Processed engine events (the redelivery guard) and outbound commands are kept this long, then purged in
# batches. Must be longer than the webhook's 300 s replay window (a system check refuses a shorter one).
TELEPHONY_EVENT_RETENTION_HOURS = env.float("TELEPHONY_EVENT_RETENTION_HOURS", default=72)
CELERY_BEAT_SCHEDULE["telephony-purge-port-records"] = {"task": "telephony.tasks.purge_port_records_task",
                                                        "schedule": 3600.0, "options": {"expires": 1800}}
# The supervisors' test calls (the simulator plays the caller): due events and their bounded end.
CELERY_IMPORTS = ["simulator.tasks", "telephony.backends.sip.tasks", "webhook.tasks"]
CELERY_BEAT_SCHEDULE["simulator-drive-test-calls"] = {"task": "simulator.tasks.drive_test_calls_task",
                                                      "schedule": 1.0, "options": {"expires": 5}}
# An operator whose last console closes is logged off after this many seconds (0: never), so calls do not
# ring a console nobody has open; a console reconnecting within it cancels the log-off.
CONSOLE_LOGOFF_GRACE_SECONDS = env.int("CONSOLE_LOGOFF_GRACE_SECONDS", default=120)
CELERY_BEAT_SCHEDULE["agents-logoff-unattended-consoles"] = {
    "task": "agents.tasks.logoff_unattended_consoles_task", "schedule": 5.0, "options": {"expires": 10}}
# The dialer's two loops: placement every second, estimation every 15 s (stale ticks are dropped).
CELERY_BEAT_SCHEDULE["dialer-pace"] = {"task": "dialer.tasks.pace_campaigns_task", "schedule": 1.0,
                                       "options": {"expires": 2}}
# Preview mode: a lead an operator holds unread (not dialled, not skipped) for this long goes back to its list
# (the estimation loop's sweep), and the operator, held back from other calls while they read it, is offered
# calls again.
PREVIEW_HOLD_SECONDS = env.int("PREVIEW_HOLD_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["dialer-estimate"] = {"task": "dialer.tasks.estimate_campaigns_task", "schedule": 15.0,
                                           "options": {"expires": 10}}
# Lead files imported in the background: an import whose task was lost or whose worker died is queued again.
CELERY_BEAT_SCHEDULE["dialer-resume-imports"] = {"task": "dialer.lead_imports.resume_stalled_imports_task",
                                                 "schedule": 30.0, "options": {"expires": 25}}
# Outgoing events (integrations/): webhooks to integrators' URLs, which must be public addresses unless the
# platform allows private ones or lists the host; short timeouts; a delivery
# is retried with exponential back-off (base, 2×base, … capped) up to MAX_ATTEMPTS, and an endpoint that
# keeps failing is paused and its supervisors told. Deliveries are kept RETENTION_DAYS.
OUTGOING_EVENTS_ALLOW_PRIVATE = env.bool("OUTGOING_EVENTS_ALLOW_PRIVATE", default=False)
OUTGOING_EVENTS_ALLOWED_HOSTS = env.list("OUTGOING_EVENTS_ALLOWED_HOSTS", default=[])
OUTGOING_EVENTS_CONNECT_TIMEOUT = env.float("OUTGOING_EVENTS_CONNECT_TIMEOUT", default=2.0)
OUTGOING_EVENTS_READ_TIMEOUT = env.float("OUTGOING_EVENTS_READ_TIMEOUT", default=5.0)
OUTGOING_EVENTS_RETRY_BASE_SECONDS = env.float("OUTGOING_EVENTS_RETRY_BASE_SECONDS", default=10.0)
OUTGOING_EVENTS_RETRY_MAX_SECONDS = env.float("OUTGOING_EVENTS_RETRY_MAX_SECONDS", default=3600.0)
OUTGOING_EVENTS_MAX_ATTEMPTS = env.int("OUTGOING_EVENTS_MAX_ATTEMPTS", default=8)
OUTGOING_EVENTS_PAUSE_AFTER_FAILURES = env.int("OUTGOING_EVENTS_PAUSE_AFTER_FAILURES", default=20)
OUTGOING_EVENTS_MAX_PAYLOAD_BYTES = env.int("OUTGOING_EVENTS_MAX_PAYLOAD_BYTES", default=65536)
OUTGOING_EVENTS_MAX_SUBSCRIPTIONS = env.int("OUTGOING_EVENTS_MAX_SUBSCRIPTIONS", default=10)
OUTGOING_EVENTS_RETENTION_DAYS = env.float("OUTGOING_EVENTS_RETENTION_DAYS", default=7)
# Deliveries run on their own Celery queue, served by the Procfile's `deliveries` worker: an integrator's slow
# or dead endpoint holds those workers for up to a read timeout each, and must never delay the dialer's pacing
# or the ACD's sweeps, which run on the default queue.
OUTGOING_EVENTS_QUEUE = env.str("OUTGOING_EVENTS_QUEUE", default="deliveries")
CELERY_TASK_ROUTES = {f"integrations.tasks.{name}": {"queue": OUTGOING_EVENTS_QUEUE}
                      for name in ("sweep_deliveries_task", "deliver_event_task", "notify_paused_task")}
CELERY_BEAT_SCHEDULE["integrations-sweep-deliveries"] = {"task": "integrations.tasks.sweep_deliveries_task",
                                                         "schedule": 1.0, "options": {"expires": 5}}
CELERY_BEAT_SCHEDULE["integrations-purge-deliveries"] = {"task": "integrations.tasks.purge_deliveries_task",
                                                         "schedule": 3600.0, "options": {"expires": 1800}}
CELERY_BEAT_SCHEDULE["billing-issue-invoices"] = {"task": "billing.tasks.issue_invoices_task",
                                                  "schedule": 6 * 3600.0}

# The SIP backend (TELEPHONY_BACKEND=sip): Kamailio (telephony/backends/sip/kamailio.cfg, rendered from these by
# `manage.py sip_proxy`) asks the back office at SIP_BACKOFFICE_URL over HTTP, with SIP_EDGE_TOKEN in a header;
# the back office ends calls and lists live dialogs over Kamailio's JSON-RPC at SIP_RPC_ADDR:SIP_RPC_PORT.
SIP_ADDR = env.str("SIP_ADDR", default="127.0.0.1")
SIP_PORT = env.int("SIP_PORT", default=5060)
SIP_RPC_ADDR = env.str("SIP_RPC_ADDR", default="127.0.0.1")
SIP_RPC_PORT = env.int("SIP_RPC_PORT", default=5071)
SIP_BACKOFFICE_URL = env.str("SIP_BACKOFFICE_URL", default="http://127.0.0.1:8000/api/v1/telephony/sip")
SIP_EDGE_TOKEN = env.str("SIP_EDGE_TOKEN", default="")
# The whole HTTP exchange with the back office (http_client has one timeout; its default waits for ever).
SIP_HTTP_TIMEOUT = env.int("SIP_HTTP_TIMEOUT", default=3)
SIP_RPC_TIMEOUT = env.float("SIP_RPC_TIMEOUT", default=2.0)
# A call over the plan's concurrency limit is refused with this code (486, 403 or 503) and Retry-After.
SIP_PLAN_LIMIT_CODE = env.int("SIP_PLAN_LIMIT_CODE", default=486)
SIP_RETRY_AFTER = env.int("SIP_RETRY_AFTER", default=30)
SIP_CPS_LIMIT = env.int("SIP_CPS_LIMIT", default=0)
SIP_CHILDREN = env.int("SIP_CHILDREN", default=4)
SIP_ASYNC_WORKERS = env.int("SIP_ASYNC_WORKERS", default=4)
# A live call without a Kamailio dialog for this long is ended as lost by the SIP reconciler (webhook/reconcile.py).
SIP_DIALOG_GRACE_SECONDS = env.float("SIP_DIALOG_GRACE_SECONDS", default=30.0)
# A caller the ACD queues waits on the proxy (182 Queued, ringback, no hold music): Kamailio asks again every
# SIP_QUEUE_POLL_SECONDS whether an operator is being offered the call, and gives up (480) after SIP_QUEUE_MAX_POLLS,
# at most 14 (each turn adds two tm branches, within Kamailio's max_branches of 30: telephony/backends/sip/config.py).
SIP_QUEUE_POLL_SECONDS = env.int("SIP_QUEUE_POLL_SECONDS", default=1)
SIP_QUEUE_MAX_POLLS = env.int("SIP_QUEUE_MAX_POLLS", default=900)
# Operators' phones register as sip:<login>@<account slug>.SIP_DOMAIN (also the digest realm) with their password.
SIP_DOMAIN = env.str("SIP_DOMAIN", default="sip.centralino.invalid")
if TELEPHONY_BACKEND == "sip":
    CELERY_BEAT_SCHEDULE["agents-expire-phone-registrations"] = {
        "task": "agents.tasks.expire_phone_registrations_task", "schedule": 5.0, "options": {"expires": 10}}
    CELERY_BEAT_SCHEDULE["sip-reconcile-dialogs"] = {"task": "webhook.tasks.reconcile_sip_dialogs_task",
                                                     "schedule": LEASE_RECONCILE_SECONDS,
                                                     "options": {"expires": LEASE_RECONCILE_SECONDS}}
