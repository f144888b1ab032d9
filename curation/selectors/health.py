"""What /readyz reports: can this web process reach what it needs?

Each dependency in use is checked with a short timeout: the database, the cache that
carries live progress, Redis when tasks are queued there, and Label Studio when it is
enabled. Label Studio is reported but not required: without it the pages, API and runs
still work, so a load balancer should keep sending traffic.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DependencyCheck:
    name: str
    ok: bool
    required: bool
    seconds: float
    # The exception's class only: /readyz is public, and messages carry hosts and users
    # (the whole error is logged).
    error: str = ""


def readiness_checks() -> list[DependencyCheck]:
    checks: list[tuple[str, Callable[[], None], bool]] = [
        ("database", _database, True),
        ("cache", _cache, True),
    ]
    if settings.TASK_BACKEND == "rq":
        checks.append(("queue", _redis_queue, True))
    if settings.LABEL_STUDIO_ENABLED:
        checks.append(("label_studio", _label_studio, False))
    return [_run(name, probe, required=required) for name, probe, required in checks]


def _run(name: str, probe: Callable[[], None], *, required: bool) -> DependencyCheck:
    started = time.monotonic()
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure is "not ready", reported by name
        logger.warning("readiness check %s failed: %r", name, exc)
        return DependencyCheck(
            name, False, required, time.monotonic() - started, type(exc).__name__
        )
    return DependencyCheck(name, True, required, time.monotonic() - started)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    token = uuid.uuid4().hex
    cache.set("assay:readyz", token, timeout=30)
    if cache.get("assay:readyz") != token:
        raise RuntimeError("the cache did not return what was just written")


def _redis_queue() -> None:
    import redis

    timeout = settings.READINESS_TIMEOUT_SECONDS
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()


def _label_studio() -> None:
    from labeling.lifecycle import server_health

    if not server_health(settings.LABEL_STUDIO_URL, timeout=settings.READINESS_TIMEOUT_SECONDS):
        raise ConnectionError(f"no healthy answer from {settings.LABEL_STUDIO_URL}/health")
