"""Settings come from the environment. Each case imports the settings in a fresh Python
process, because they are read once at import time."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Variables the settings read; the parent test process has some of them set already.
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "SECRET_KEY",
    "DEBUG",
    "HF_HOME",
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "ASSAY_DATA_DIR",
    "ASSAY_DATABASE_NAME",
    "ASSAY_TASK_BACKEND",
)

PRINT_SETTINGS = """
import json, os
import django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
out = {
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST"),
    "PORT": db.get("PORT"), "USER": db.get("USER"), "OPTIONS": db.get("OPTIONS", {}),
    "DEBUG": settings.DEBUG, "HF_HOME": settings.HF_HOME, "HF_HOME_ENV": os.environ["HF_HOME"],
    "HF_HUB_OFFLINE_ENV": os.environ["HF_HUB_OFFLINE"], "DATA_DIR": str(settings.DATA_DIR),
    "TASKS": settings.TASKS, "INSTALLED_APPS": settings.INSTALLED_APPS,
    "SESSION_COOKIE_SECURE": getattr(settings, "SESSION_COOKIE_SECURE", None),
}
if db["ENGINE"].endswith("sqlite3"):
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        out["journal_mode"] = cursor.fetchone()[0]
print(json.dumps(out))
"""


def import_settings(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=REPO_ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(module: str, **env: str) -> dict:
    process = import_settings(module, **env)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_default_database_is_sqlite_in_the_data_dir_in_wal_mode(tmp_path):
    config = loaded("curation.settings.dev", ASSAY_DATA_DIR=str(tmp_path))

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "assay.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] >= 5
    assert config["journal_mode"] == "wal"


def test_database_url_switches_to_postgresql(tmp_path):
    config = loaded(
        "curation.settings.dev",
        ASSAY_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://assay_user@db.example.org:5433/assay_db",
    )

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["HOST"], config["PORT"], config["USER"]) == (
        "assay_db",
        "db.example.org",
        5433,
        "assay_user",
    )


def test_assay_database_name_points_at_another_database(tmp_path):
    other = tmp_path / "other.sqlite3"
    config = loaded(
        "curation.settings.dev", ASSAY_DATA_DIR=str(tmp_path), ASSAY_DATABASE_NAME=str(other)
    )

    assert config["NAME"] == str(other)
    assert other.exists()


def test_hugging_face_cache_lives_under_the_data_dir_and_stays_offline(tmp_path):
    config = loaded("curation.settings.dev", ASSAY_DATA_DIR=str(tmp_path))

    assert config["HF_HOME"] == config["HF_HOME_ENV"] == str(tmp_path / "hf")
    assert config["HF_HUB_OFFLINE_ENV"] == "1"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    process = import_settings("curation.settings.prod", ASSAY_DATA_DIR=str(tmp_path))

    assert process.returncode != 0
    assert "ImproperlyConfigured" in process.stderr
    assert "SECRET_KEY must be set" in process.stderr


def test_production_with_a_secret_key_is_locked_down(tmp_path):
    config = loaded(
        "curation.settings.prod", ASSAY_DATA_DIR=str(tmp_path), SECRET_KEY="s3cret-for-test"
    )

    assert config["DEBUG"] is False
    assert config["SESSION_COOKIE_SECURE"] is True


def test_task_backend_is_chosen_by_environment(tmp_path):
    database = loaded("curation.settings.dev", ASSAY_DATA_DIR=str(tmp_path))
    rq = loaded("curation.settings.dev", ASSAY_DATA_DIR=str(tmp_path), ASSAY_TASK_BACKEND="rq")
    tests_default = loaded("curation.settings.test", ASSAY_DATA_DIR=str(tmp_path))

    assert database["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert rq["TASKS"]["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert "django_rq" in rq["INSTALLED_APPS"]
    assert tests_default["TASKS"]["default"]["BACKEND"].endswith("ImmediateBackend")


def test_an_unknown_task_backend_is_named_in_the_error(tmp_path):
    process = import_settings(
        "curation.settings.dev", ASSAY_DATA_DIR=str(tmp_path), ASSAY_TASK_BACKEND="celery"
    )

    assert process.returncode != 0
    assert "ASSAY_TASK_BACKEND='celery'" in process.stderr
