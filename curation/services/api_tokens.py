"""API token services: create (the raw token is returned once), authenticate, revoke.

Only the SHA-256 of a token is stored, so a leaked database does not leak usable tokens;
a lost token cannot be shown again, only revoked and replaced.

Recording a token's last use is a convenience, never a reason to hold a request: it is
written at most once per ``LAST_USED_RESOLUTION`` and skipped when the database would make
the request wait for it (on SQLite, a long import holds the only write lock for a minute).
"""

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import ApiToken

TOKEN_PREFIX = "assay_"
# last_used_at is kept to this resolution: a token used all day costs one write per period.
LAST_USED_RESOLUTION = timedelta(minutes=5)
# How long recording the last use may wait for a lock before it is skipped.
LAST_USED_LOCK_WAIT_MS = 100

logger = logging.getLogger(__name__)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the raw token (shown once)."""
    name = name.strip()
    if not name:
        raise AssayError("A token needs a name, to recognise it later.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8],
        key_digest=token_digest(raw),
    )
    return token, raw


def api_token_authenticate(*, raw: str):
    """The active user owning ``raw``, or None; records when the token was last used."""
    token = (
        ApiToken.objects.select_related("user").filter(key_digest=token_digest(raw.strip())).first()
    )
    if token is None or not token.user.is_active:
        return None
    _record_use(token, timezone.now())
    return token.user


def _record_use(token: ApiToken, now: datetime) -> None:
    """Set last_used_at when it is older than the resolution, unless that means waiting."""
    cutoff = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at >= cutoff:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff)
    try:
        with _lock_wait_limited(LAST_USED_LOCK_WAIT_MS):
            ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    except OperationalError as exc:  # "database is locked", or PostgreSQL's lock timeout
        logger.info("Last use of API token %s… not recorded, database busy: %s", token.prefix, exc)
        return
    token.last_used_at = now


@contextmanager
def _lock_wait_limited(milliseconds: int) -> Iterator[None]:
    """Statements inside wait at most ``milliseconds`` for a lock, then raise OperationalError.

    SQLite: the connection's busy timeout, lowered and restored (inside a transaction the
    connection already holds the write lock, IMMEDIATE mode, so nothing waits). PostgreSQL:
    ``lock_timeout`` for a transaction (a savepoint inside an outer one) around the block.
    """
    if connection.vendor == "sqlite":
        if connection.in_atomic_block:
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            (previous,) = cursor.fetchone()
            cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{int(milliseconds)}ms'")
        yield


@transaction.atomic
def api_token_revoke(*, token: ApiToken, user) -> None:
    """Delete a token; only its owner may revoke it."""
    if token.user_id != user.pk:
        raise AssayError("That token belongs to someone else.")
    token.delete()
