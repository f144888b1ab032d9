"""Applications and their API keys: create (the key is returned once), authenticate,
revoke. Only a key's SHA-256 is stored."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import Project
from curation.services.audit import audit_record
from serving.models import Application

KEY_PREFIX = "assay_app_"


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def application_create(*, project: Project, name: str, user=None) -> tuple[Application, str]:
    """A new application of ``project``; returns the row and its raw key (shown once)."""
    name = (name or "").strip()
    if not name:
        raise AssayError("An application needs a name, to recognise it in the request log.")
    if Application.objects.filter(project=project, name=name, revoked_at=None).exists():
        raise AssayError(f"{project.name} already has an application named '{name}'.")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    application = Application.objects.create(
        project=project,
        name=name[:100],
        key_prefix=raw[len(KEY_PREFIX) : len(KEY_PREFIX) + 8],
        key_digest=key_digest(raw),
        created_by=user,
    )
    audit_record(
        project=project,
        actor=user,
        action="application.create",
        target=application,
        message=f"Application '{application.name}' created",
    )
    return application, raw


def application_authenticate(*, raw: str) -> Application | None:
    """The live application owning ``raw``, or None (unknown or revoked key)."""
    raw = (raw or "").strip()
    if not raw.startswith(KEY_PREFIX):
        return None
    return (
        Application.objects.select_related("project")
        .filter(key_digest=key_digest(raw), revoked_at=None)
        .first()
    )


@transaction.atomic
def application_revoke(*, application: Application, user=None) -> Application:
    if application.revoked_at is not None:
        raise AssayError(f"Application '{application.name}' is already revoked.")
    application.revoked_at = timezone.now()
    application.save(update_fields=["revoked_at"])
    audit_record(
        project=application.project,
        actor=user,
        action="application.revoke",
        target=application,
        message=f"Application '{application.name}' revoked; its key no longer works",
    )
    return application
