import hashlib
import sqlite3
import time
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import ApiToken
from curation.services.api_tokens import (
    LAST_USED_RESOLUTION,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from tests.factories import UserFactory


def test_token_is_returned_once_and_only_its_digest_is_stored(user):
    token, raw = api_token_create(user=user, name="ci")
    stored = ApiToken.objects.get()
    assert stored.key_digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_digest, stored.prefix, stored.name}
    assert raw.startswith("assay_") and raw[6:14] == token.prefix


def test_authenticate_finds_the_user_and_records_last_use(user):
    _token, raw = api_token_create(user=user, name="ci")
    assert api_token_authenticate(raw=raw) == user
    assert ApiToken.objects.get().last_used_at is not None
    assert api_token_authenticate(raw=raw + "x") is None


def test_inactive_users_tokens_are_refused(user):
    _token, raw = api_token_create(user=user, name="ci")
    user.is_active = False
    user.save()
    assert api_token_authenticate(raw=raw) is None


def test_tokens_are_distinct_and_need_a_name(user):
    raws = {api_token_create(user=user, name=f"t{n}")[1] for n in range(5)}
    assert len(raws) == 5
    with pytest.raises(AssayError, match="needs a name"):
        api_token_create(user=user, name="  ")


def test_only_the_owner_may_revoke(user):
    token, raw = api_token_create(user=user, name="ci")
    with pytest.raises(AssayError, match="belongs to someone else"):
        api_token_revoke(token=token, user=UserFactory())
    api_token_revoke(token=token, user=user)
    assert api_token_authenticate(raw=raw) is None


def test_assay_token_command_prints_a_working_token(user):
    out = StringIO()
    call_command("assay_token", user.username, "--name", "nightly", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    assert api_token_authenticate(raw=raw) == user
    assert ApiToken.objects.get().name == "nightly"


def test_assay_token_command_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("assay_token", "ghost")


def test_last_use_is_recorded_once_per_resolution_period(user):
    token, raw = api_token_create(user=user, name="ci")
    recently = timezone.now() - timedelta(minutes=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)

    api_token_authenticate(raw=raw)
    assert ApiToken.objects.get().last_used_at == recently  # within the period: no write

    long_ago = timezone.now() - LAST_USED_RESOLUTION - timedelta(seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    api_token_authenticate(raw=raw)
    assert ApiToken.objects.get().last_used_at > long_ago + LAST_USED_RESOLUTION


@contextmanager
def _write_lock_held_elsewhere(token_id: int):
    """Another database connection holding what a token's last-use write needs: on SQLite
    the database's single write lock (as a long import does), on PostgreSQL the token row."""
    if connection.vendor == "sqlite":
        other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE curation_apitoken SET name = name WHERE id = ?", (token_id,))
    else:
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        other = psycopg.connect(**params)
        other.execute("SELECT id FROM curation_apitoken WHERE id = %s FOR UPDATE", (token_id,))
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_token_request_answers_quickly_while_another_connection_holds_the_write_lock():
    user = UserFactory()
    token, raw = api_token_create(user=user, name="script")
    client = Client()

    with _write_lock_held_elsewhere(token.pk):
        started = time.monotonic()
        response = client.get("/api/projects", headers={"Authorization": f"Bearer {raw}"})
        elapsed = time.monotonic() - started

    # The database's own busy timeout is 30 s: the request did not wait for the lock.
    assert response.status_code == 200, response.content
    assert elapsed < 5
    assert ApiToken.objects.get().last_used_at is None  # skipped, not waited for

    response = client.get("/api/projects", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None  # recorded once the lock is free
