"""Fixtures for the curation tests: the project fixtures make ``user`` a data lead of
their project (the role that builds, reviews and exports), so the tests act as someone
the permission table lets act; the RBAC tests make their own users."""

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
