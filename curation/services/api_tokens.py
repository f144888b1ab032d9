"""API token services: create (the raw token is returned once), authenticate, revoke.

Only the SHA-256 of a token is stored, so a leaked database does not leak usable tokens;
a lost token cannot be shown again, only revoked and replaced.
"""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import ApiToken

TOKEN_PREFIX = "assay_"


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
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    return token.user


@transaction.atomic
def api_token_revoke(*, token: ApiToken, user) -> None:
    """Delete a token; only its owner may revoke it."""
    if token.user_id != user.pk:
        raise AssayError("That token belongs to someone else.")
    token.delete()
