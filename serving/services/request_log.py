"""The request log: rows are queued by the front door and written in batches by a
background thread, so logging never sits on the response path.

``SERVING_REQUEST_LOG_MODE = "background"`` (default) batches; ``"inline"`` writes before
the response returns (tests on a transaction-wrapped database, and debugging).
`request_log_flush` writes whatever is queued now (the events API calls it before it
decides a request id is unknown). Personal data is redacted before anything is queued
when ``SERVING_REDACT_PII`` is on; `request_log_prune` applies the retention setting.
"""

import atexit
import logging
import queue
import re
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections
from django.utils import timezone

from serving.models import RequestLog

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
FLUSH_SECONDS = 0.25
# A batch the database refuses for a while (on SQLite a long import holds the only write
# lock for minutes) is retried this long before it is given up as lost.
RETRY_SECONDS = 600
RETRY_PAUSE_SECONDS = 1.0
PII_PATTERNS = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    "card": re.compile(r"\b(?:\d[ -]?){13,16}\b"),
    "phone": re.compile(r"(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b"),
}


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def redact(text: str) -> str:
    """``text`` with e-mail addresses, card and phone numbers replaced by [EMAIL] etc."""
    for name, pattern in PII_PATTERNS.items():
        text = pattern.sub(f"[{name.upper()}]", text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


class RequestLogWriter:
    """A queue and one daemon thread that bulk-inserts what the queue holds."""

    def __init__(self) -> None:
        self._queue: queue.Queue[dict] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def put(self, row: dict) -> None:
        self._queue.put(row)
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="assay-request-log", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=FLUSH_SECONDS)
            except queue.Empty:
                continue
            self._write([first, *self._drain(BATCH_SIZE - 1)])
            close_old_connections()

    def _drain(self, limit: int) -> list[dict]:
        rows = []
        while len(rows) < limit:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return rows

    def _write(self, rows: list[dict]) -> None:
        if not rows:
            return
        deadline = time.monotonic() + RETRY_SECONDS
        with self._write_lock:
            while True:
                try:
                    RequestLog.objects.bulk_create([RequestLog(**row) for row in rows])
                    return
                except OperationalError as exc:  # locked, or the connection dropped
                    if time.monotonic() >= deadline:
                        logger.exception("gave up writing %d request log rows", len(rows))
                        return
                    logger.info("request log waits for the database: %s", exc)
                    close_old_connections()
                    time.sleep(RETRY_PAUSE_SECONDS)
                except Exception:  # noqa: BLE001 - a lost log batch must never stop serving
                    logger.exception("could not write %d request log rows", len(rows))
                    return

    def flush(self) -> None:
        """Write everything queued so far, in the calling thread."""
        while True:
            rows = self._drain(BATCH_SIZE)
            if not rows:
                return
            self._write(rows)


_writer = RequestLogWriter()
atexit.register(_writer.flush)


def request_log_enqueue(row: dict) -> None:
    """Queue one request's row (field names of `RequestLog`)."""
    if getattr(settings, "SERVING_REDACT_PII", False):
        row = {**row, "input": _redact_value(row["input"]), "output": _redact_value(row["output"])}
    if getattr(settings, "SERVING_REQUEST_LOG_MODE", "background") == "inline":
        RequestLog.objects.create(**row)
        return
    _writer.put(row)


def request_log_flush() -> None:
    """Write the queued rows now (a no-op in inline mode)."""
    _writer.flush()


def request_log_prune(*, days: int | None = None) -> int:
    """Delete logged requests (and their events) older than the retention; returns how
    many requests went. ``days`` None: ``SERVING_REQUEST_LOG_RETENTION_DAYS`` (0 = keep)."""
    days = settings.SERVING_REQUEST_LOG_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    deleted, by_model = RequestLog.objects.filter(created_at__lt=cutoff).delete()
    return by_model.get("serving.RequestLog", 0)
