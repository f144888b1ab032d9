"""Tests: tasks run inline unless ASSAY_TASK_BACKEND picks a real backend; fast hashing."""

import os

from .base import *  # noqa: F403

SECRET_KEY = SECRET_KEY or "test-only-secret-key"  # noqa: F405
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
if "ASSAY_TASK_BACKEND" not in os.environ:
    TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": TASK_QUEUES,  # noqa: F405
        }
    }

# One test database per pytest process, so two suites running side by side (two engineers,
# or a suite beside a benchmark) never destroy each other's database. ASSAY_TEST_DB_NAME fixes
# the name instead; a subprocess that must open the same database (the task-worker tests) is
# pointed at it through ASSAY_DATABASE_NAME (see base.py).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"]["NAME"] = os.environ.get(  # noqa: F405
        "ASSAY_TEST_DB_NAME",
        str(DATA_DIR / f"test-assay-{os.getpid()}.sqlite3"),  # noqa: F405
    )
else:
    DATABASES["default"]["TEST"].setdefault(  # noqa: F405
        "NAME", os.environ.get("ASSAY_TEST_DB_NAME", f"test_assay_{os.getpid()}")
    )

# `assay_serve` under test settings runs web and worker only; the Label Studio tests start
# their own server through a session fixture.
LABEL_STUDIO_ENABLED = env_bool("LABEL_STUDIO_ENABLED", False)  # noqa: F405

# Requests are logged before the response returns: the test's transaction-wrapped database
# cannot be written from the log writer's thread. The background writer has its own tests.
SERVING_REQUEST_LOG_MODE = os.environ.get("ASSAY_REQUEST_LOG_MODE", "inline")
SERVING_EVALUATE_SECONDS = 0
