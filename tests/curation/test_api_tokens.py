import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from curation.exceptions import AssayError
from curation.models import ApiToken
from curation.services.api_tokens import (
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
