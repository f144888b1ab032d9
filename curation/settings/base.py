"""Base settings shared by every environment; everything comes from the environment.

Environment variables (all optional in dev):

- ``ASSAY_DATA_DIR``  folder for the SQLite file, uploads, exports and the HF cache (``var/``)
- ``DATABASE_URL``    e.g. ``postgres://user@127.0.0.1:5432/assay``; SQLite under ``var/`` if unset
- ``ASSAY_DATABASE_NAME``  overrides the database name (or SQLite file); the worker tests use it
  to point a ``db_worker`` subprocess at the test database
- ``SECRET_KEY``      required outside dev
- ``ASSAY_TASK_BACKEND``  ``database`` (default, django-tasks-db) or ``rq`` (Redis)
- ``ASSAY_RUN_QUEUES``  JSON object routing run kinds to task queues over the defaults
  (``{"training": "gpu"}``; see RUN_QUEUES)
- ``REDIS_URL``       Redis for the RQ backend and the cache (``redis://127.0.0.1:6379/0``)
- ``HF_HUB_OFFLINE``  honoured as given; defaults to ``1`` because models come from local paths
- ``ASSAY_HOST`` / ``ASSAY_PORT``  where ``assay_serve`` binds the web server (``127.0.0.1:8000``)
- ``ASSAY_LF_WORKERS`` / ``ASSAY_LF_PARALLEL_MIN_ROWS``  processes for Python LFs (``0``: one
  per CPU) and the input size from which they are used (``10000``)
- ``ASSAY_DASK_SCHEDULER`` / ``ASSAY_DASK_WORKERS`` / ``ASSAY_DASK_MIN_ROWS``  where large
  projects' LF application and label-issue folds run (a scheduler address; else a local
  cluster of that many processes) and from how many rows (``500000``; ``0``: only when asked)
- ``ASSAY_MLFLOW_TRACKING_URI``  MLflow store for training runs (``file:/srv/mlruns``); unset: off
- ``ASSAY_TRAINING_PROCESSES`` / ``ASSAY_TRAINING_STRATEGY``  training processes per run
  (``1``; more start torchrun) and how they share the model (``ddp``, ``fsdp``, ``deepspeed``)
- ``ASSAY_WEB_SERVER``  what assay_serve runs: ``runserver`` (dev) or ``gunicorn`` (prod)
- ``ASSAY_SERVE_RESTART``  whether assay_serve restarts a child other than the web server that
  died (on in dev, off in prod)
- ``ASSAY_LOG_FORMAT``  ``text`` (default) or ``json``: one JSON object per log line
- ``ASSAY_METRICS_TOKEN``  when set, ``/metrics`` wants ``Authorization: Bearer <token>``
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("ASSAY_DATA_DIR", BASE_DIR / "var")).resolve()
# SQLite cannot create the folder its file lives in, and a fresh clone has no var/.
DATA_DIR.mkdir(parents=True, exist_ok=True)
UPLOAD_DIR = DATA_DIR / "uploads"
EXPORT_DIR = DATA_DIR / "exports"
# Written by assay_bootstrap (mode 600): the first admin's username and generated password.
ADMIN_CREDENTIALS_FILE = DATA_DIR / "admin-credentials.txt"
SERVE_HOST = os.environ.get("ASSAY_HOST", "127.0.0.1")
SERVE_PORT = int(os.environ.get("ASSAY_PORT", "8000"))
# What `assay_serve` runs as its web process: Django's development server, or gunicorn
# (configured by curation/gunicorn_config.py from ASSAY_WEB_WORKERS and friends).
WEB_SERVER = os.environ.get("ASSAY_WEB_SERVER", "runserver")
# Whether `assay_serve` restarts a worker (or experiments, loop, reconcile) process that died,
# saying so, instead of stopping everything. On in development; off in production, where the
# container's orchestrator restarts the whole service and a death must not go unnoticed.
SERVE_RESTART = env_bool("ASSAY_SERVE_RESTART", True)

# Hugging Face libraries read these at import time, so they are set before any of them loads.
os.environ.setdefault("HF_HOME", str(DATA_DIR / "hf"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
HF_HOME = os.environ["HF_HOME"]
HF_HUB_OFFLINE = env_bool("HF_HUB_OFFLINE", True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "django_prometheus",
    "curation",
    "curation.weak_supervision",
    "curation.quality",
    "labeling",
    "training",
    "serving",
    "loop",
]

# The Prometheus pair wraps everything else, so request latency includes every middleware.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "curation.urls"
WSGI_APPLICATION = "curation.wsgi.application"
ASGI_APPLICATION = "curation.asgi.application"

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
            ],
        },
    },
]


def database_from_env() -> dict:
    """PostgreSQL (or any dj-database-url URL) when DATABASE_URL is set, else SQLite in WAL mode.

    SQLite is shared by the web process and the task worker: WAL lets readers run beside
    one writer, the busy timeout makes a writer wait instead of failing, and IMMEDIATE
    transactions take the write lock up front so two writers never deadlock on upgrade.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        # Health checks: a connection kept open across a server restart is replaced, not
        # handed to the next request or task broken.
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        config.setdefault("TEST", {})
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "assay.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                # Seconds a writer waits for the lock before "database is locked".
                "timeout": float(os.environ.get("ASSAY_SQLITE_BUSY_TIMEOUT_SECONDS", "30")),
            },
            "TEST": {"NAME": DATA_DIR / "test-assay.sqlite3"},
        }
    # A worker subprocess started by the tests must open the test database, not this one.
    if os.environ.get("ASSAY_DATABASE_NAME"):
        config["NAME"] = os.environ["ASSAY_DATABASE_NAME"]
    return config


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def run_queues_from_env() -> dict[str, str]:
    """ASSAY_RUN_QUEUES, a JSON object of run kind -> queue, over the defaults."""
    raw = os.environ.get("ASSAY_RUN_QUEUES", "").strip() or "{}"
    try:
        overrides = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"ASSAY_RUN_QUEUES is not valid JSON: {exc}") from exc
    if not isinstance(overrides, dict) or not all(
        isinstance(queue, str) and queue for queue in overrides.values()
    ):
        raise ImproperlyConfigured(
            'ASSAY_RUN_QUEUES must map run kinds to queue names, e.g. {"training": "gpu"}'
        )
    return {**DEFAULT_RUN_QUEUES, **overrides}


# The task queue each kind of run is sent to; a kind not listed goes to "default". Workers
# take queues by name (`assay_worker --queues`), so CPU-heavy work and GPU work run on the
# machines meant for them. Every backend knows every queue named here.
DEFAULT_RUN_QUEUES = {
    "lf_apply": "cpu-heavy",
    "label_model_fit": "cpu-heavy",
    "quality_check": "cpu-heavy",
    "training": "gpu",
    "deployment_start": "gpu",
}
RUN_QUEUES = run_queues_from_env()
TASK_QUEUES = sorted({"default", *RUN_QUEUES.values()})

TASK_BACKEND = os.environ.get("ASSAY_TASK_BACKEND", "database")
if TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
elif TASK_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
    RQ_QUEUES = {queue: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 24 * 3600} for queue in TASK_QUEUES}
elif TASK_BACKEND == "immediate":
    TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": TASK_QUEUES,
        }
    }
else:
    raise ImproperlyConfigured(
        f"ASSAY_TASK_BACKEND={TASK_BACKEND!r}: expected 'database', 'rq' or 'immediate'"
    )

# A running run whose worker has not reported for this long is taken as abandoned (its
# worker died) and no longer blocks a new run of the same kind on the same object. The
# heartbeat thread beats four times per limit (every 15 s at 60 s), outside the handler's
# transaction, so a live run is never mistaken for a dead one however long it works; a
# run whose process is seen to be gone (same machine) is released at once. Raise it only
# for a cache (the heartbeat's channel) that can stall for most of a minute.
RUN_STALE_AFTER_SECONDS = int(os.environ.get("ASSAY_RUN_STALE_AFTER_SECONDS", 60))

# Signs the version attestations kept in the audit log (curation/services/versions/
# attestation.py). It must live outside the database; empty: SECRET_KEY signs. Changing it
# makes every earlier attestation fail verification, so keep it as long as the data.
ASSAY_SIGNING_KEY = os.environ.get("ASSAY_SIGNING_KEY", "")

# Python labeling functions on at least LF_PARALLEL_MIN_ROWS examples run in LF_WORKERS
# processes (0: one per CPU; 1: never start processes).
LF_WORKERS = int(os.environ.get("ASSAY_LF_WORKERS", "0"))
LF_PARALLEL_MIN_ROWS = int(os.environ.get("ASSAY_LF_PARALLEL_MIN_ROWS", "10000"))

# Large projects apply Python LFs and cross-validate label issues on Dask
# (curation/integrations/dask_cluster.py): on the scheduler at DASK_SCHEDULER
# ("tcp://host:8786"), or else on a local cluster of DASK_WORKERS processes started for the
# run. Projects from DASK_MIN_ROWS rows go there by themselves (0: only runs that ask).
DASK_SCHEDULER = os.environ.get("ASSAY_DASK_SCHEDULER", "").strip()
DASK_WORKERS = int(os.environ.get("ASSAY_DASK_WORKERS", "2"))
DASK_MIN_ROWS = int(os.environ.get("ASSAY_DASK_MIN_ROWS", "500000"))

# --- Serving (serving app) ----------------------------------------------------------------
# The request log is written by a background thread in batches ("background"), or before
# the response returns ("inline"). Personal data (e-mail, phone, card numbers) is replaced
# before anything is stored when SERVING_REDACT_PII is on. Requests older than the retention
# are deleted by `serving_log_prune` (0 days: keep everything).
SERVING_REQUEST_LOG_MODE = os.environ.get("ASSAY_REQUEST_LOG_MODE", "background")
SERVING_REDACT_PII = env_bool("ASSAY_REDACT_PII", False)
SERVING_REQUEST_LOG_RETENTION_DAYS = int(os.environ.get("ASSAY_REQUEST_LOG_RETENTION_DAYS", "90"))
# Experiments are re-evaluated (and automatically rolled out or back) at most this often
# when feedback arrives, and by `serving_evaluate --loop`.
SERVING_EVALUATE_SECONDS = int(os.environ.get("ASSAY_EXPERIMENT_EVALUATE_SECONDS", "30"))

# The loop (loop/): which embeddings measure input drift ("minilm", bundled; or "hashing",
# no model), how many reference and window texts they embed at most, and the price of an
# hour of compute per hardware kind (cost of runs, cycles and 1,000 requests).
LOOP_EMBEDDINGS = os.environ.get("ASSAY_LOOP_EMBEDDINGS", "minilm")
LOOP_DRIFT_SAMPLE = int(os.environ.get("ASSAY_LOOP_DRIFT_SAMPLE", "300"))
LOOP_PRICE_PER_HOUR = json.loads(
    os.environ.get("ASSAY_PRICE_PER_HOUR", '{"cpu": 0.10, "cuda": 2.50}')
)
# How often `assay_serve` runs `loop_tick` (0: not at all).
LOOP_TICK_SECONDS = int(os.environ.get("ASSAY_LOOP_TICK_SECONDS", "900"))
LOOP_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("ASSAY_LOOP_WEBHOOK_TIMEOUT", "3"))

# Training runs are logged to MLflow at this URI when it is set. The training runner reads
# the same variable itself (it is Django-free); this copy lets pages say whether runs are logged.
MLFLOW_TRACKING_URI = os.environ.get("ASSAY_MLFLOW_TRACKING_URI", "").strip()

# Training runs in this many processes started by torchrun (training/core/distributed.py;
# 1: in the worker's own process), sharing the model by TRAINING_STRATEGY: "ddp" (default),
# "fsdp" or "deepspeed" (ZeRO-3; needs the deepspeed package) for models too large for one GPU.
TRAINING_PROCESSES = int(os.environ.get("ASSAY_TRAINING_PROCESSES", "1"))
TRAINING_STRATEGY = os.environ.get("ASSAY_TRAINING_STRATEGY", "ddp").strip()

# Live progress of long runs is published through the cache: a file cache works across the
# web and worker processes with no extra service, and never waits on the database write lock.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The container image collects static files into itself at build time (ASSAY_STATIC_ROOT).
STATIC_ROOT = Path(os.environ.get("ASSAY_STATIC_ROOT", DATA_DIR / "static"))
# WhiteNoise warns about a missing root at start-up; collectstatic fills it for production.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "curation" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads larger than this spill to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# An import file uploaded through a page or the API may be at most this big (0: no
# limit); the command line reads files from disk and has none.
UPLOAD_MAX_BYTES = int(os.environ.get("ASSAY_UPLOAD_MAX_BYTES", 100 * 1024 * 1024))
# An uploaded copy that no queued or running import uses is deleted after this long
# (normally its run deletes it as soon as it ends).
UPLOAD_RETENTION_SECONDS = int(float(os.environ.get("ASSAY_UPLOAD_RETENTION_HOURS", 24)) * 3600)
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# ASSAY_LOG_FORMAT=json writes one JSON object per line (time, level, logger, message,
# exception), for log collectors; gunicorn's logs follow it (curation/gunicorn_config.py).
LOG_FORMAT = os.environ.get("ASSAY_LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"ASSAY_LOG_FORMAT={LOG_FORMAT!r}: expected 'text' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "curation.log_format.JsonLogFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# /metrics (Prometheus) is open like /healthz unless a token is set; a scraper then sends
# "Authorization: Bearer <token>".
METRICS_TOKEN = os.environ.get("ASSAY_METRICS_TOKEN", "")
# /readyz waits at most this long for each dependency (database, Redis, Label Studio).
READINESS_TIMEOUT_SECONDS = float(os.environ.get("ASSAY_READINESS_TIMEOUT_SECONDS", "2"))


def require_secret_key() -> None:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set outside dev (export SECRET_KEY=...).")


# --- Label Studio (labeling app) ----------------------------------------------------------
# The local server's own settings (port, venv, data dir, admin account, its secret key) are
# read by labeling/lifecycle.py from the same environment. The dev defaults below are
# public; production requires the secrets (see `require_label_studio_secrets`).
from labeling.lifecycle import DEV_TOKEN as _LS_DEV_TOKEN  # noqa: E402 - a light module

LABEL_STUDIO_ENABLED = env_bool("LABEL_STUDIO_ENABLED", True)
LABEL_STUDIO_PORT = int(os.environ.get("LABEL_STUDIO_PORT", "8081"))
LABEL_STUDIO_URL = os.environ.get("LABEL_STUDIO_URL", f"http://127.0.0.1:{LABEL_STUDIO_PORT}")
LABEL_STUDIO_TOKEN = os.environ.get("LABEL_STUDIO_TOKEN") or _LS_DEV_TOKEN
# Label Studio sends it in a header with every webhook; a request without it gets 403.
LABEL_STUDIO_WEBHOOK_SECRET = (
    os.environ.get("LABEL_STUDIO_WEBHOOK_SECRET") or "assay-dev-only-webhook-secret"
)
# Linking registers a webhook unless this is off (the reconcile job still pulls).
LABEL_STUDIO_WEBHOOKS = env_bool("LABEL_STUDIO_WEBHOOKS", True)
# Where Label Studio reaches Assay for webhooks.
ASSAY_PUBLIC_URL = os.environ.get("ASSAY_PUBLIC_URL", f"http://{SERVE_HOST}:{SERVE_PORT}")
LABEL_STUDIO_RECONCILE_SECONDS = int(os.environ.get("LABEL_STUDIO_RECONCILE_SECONDS", "300"))
LABEL_STUDIO_SECRET_VARIABLES = (
    "LABEL_STUDIO_TOKEN",
    "LABEL_STUDIO_WEBHOOK_SECRET",
    "LABEL_STUDIO_PASSWORD",
    "LABEL_STUDIO_SECRET_KEY",
)


def require_label_studio_secrets(*, enabled: bool) -> None:
    """Outside dev, Label Studio's token, webhook secret, admin password and secret key
    must come from the environment (the dev defaults are public)."""
    if not enabled:
        return
    missing = [name for name in LABEL_STUDIO_SECRET_VARIABLES if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            f"Label Studio is enabled but {', '.join(missing)} not set; set them, or "
            "LABEL_STUDIO_ENABLED=false."
        )
