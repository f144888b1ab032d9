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
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
