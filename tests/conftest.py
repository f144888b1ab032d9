"""Fixtures shared by the whole suite."""

import os
from pathlib import Path

import pytest

from tests.factories import ExampleFactory, ProjectFactory, UserFactory

SHARED_DATA = Path(
    os.environ.get("ASSAY_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def pytest_collection_modifyitems(config, items):
    """`production` tests start the whole production process set on PostgreSQL and Redis;
    they run only when asked for by marker (CI's production stage: `pytest -m production`)."""
    if "production" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="production end to end: run with `pytest -m production`")
    for item in items:
        if "production" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_data_dirs(settings, tmp_path):
    """Uploads, exports and the live-progress cache go to a per-test folder."""
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.EXPORT_DIR = tmp_path / "exports"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture(autouse=True)
def _append_only_tables_flushable(request):
    """Tests on a live database (transactional_db, live_server) end with a flush that
    DELETEs every row; the audit log and approved versions refuse DELETE (curation
    migration 0006) unless ``assay_maintenance_unlock`` holds a row. Unlock just for that
    flush, and lock again when the next such test starts."""
    if not {"transactional_db", "live_server"} & set(request.fixturenames):
        yield
        return
    from django.db import connection

    request.getfixturevalue("transactional_db")  # set up first, so flushed after this
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM assay_maintenance_unlock")
    yield
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO assay_maintenance_unlock (reason) VALUES ('test flush')")


@pytest.fixture
def shared_data() -> Path:
    """The third-party data sets in ../shared/data. Absent for someone who cloned the repo
    alone: the test skips, except on CI (CI=true), where a missing folder is a failure."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the shared data folder {SHARED_DATA} is missing")
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (clone ../shared beside the repo)")
    return SHARED_DATA


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


@pytest.fixture
def browser_page(live_server, chromium_path, tmp_path, monkeypatch):
    """A headless Chromium page for a test against ``live_server`` (see tests/browser.py;
    sign in with `tests.browser.log_in`). Screenshots the test saves in ``tmp_path`` are
    kept in $ASSAY_SCREENSHOT_DIR when that is set."""
    from tests.browser import chromium_page

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # around it are still synchronous, so Django's async-safety check is relaxed.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium_page(chromium_path, tmp_path) as page:
        yield page


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def classification_project(db):
    return ProjectFactory(label_set=["ham", "spam"])


@pytest.fixture
def generation_project(db):
    return ProjectFactory(task_type="generation", label_set=[], field_schema=["prompt", "response"])


__all__ = ["ExampleFactory"]
