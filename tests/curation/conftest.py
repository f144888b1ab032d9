"""Fixtures for the curation tests: the project fixtures make ``user`` a data lead of
their project (the role that builds, reviews and exports), so the tests act as someone
the permission table lets act; the RBAC tests make their own users."""

import os
from pathlib import Path

import pytest

from tests.factories import MembershipFactory, ProjectFactory


@pytest.fixture
def classification_project(db, user):
    project = ProjectFactory(label_set=["ham", "spam"])
    MembershipFactory(project=project, user=user, role="data_lead")
    return project


@pytest.fixture
def generation_project(db, user):
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    MembershipFactory(project=project, user=user, role="data_lead")
    return project


@pytest.fixture(autouse=True)
def _relock_after_flush(db):
    """A live test's unlock row (tests/conftest.py) survives its flush: remove it, so the
    triggers these tests rely on are on."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM assay_maintenance_unlock")


@pytest.fixture
def chromium_path() -> Path:
    """Debian's Chromium for the browser tests (playwright's own download does not work
    offline); missing: skip, except on CI."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        reason = f"{chromium} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return chromium
