"""The audit log: every service that changes state records what it did here.

`audit_record` is the one way to write an `AuditEvent`; it never updates or deletes one
(the database refuses that too, migration 0006). Call it inside the service's own
transaction so the event and the change commit, or roll back, together.
"""

from typing import Any

from django.db import models, transaction

from curation.models import AuditEvent, DatasetVersion, Project


def _target_ref(target: Any) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    if isinstance(target, tuple) and len(target) == 2:
        return str(target[0]), str(target[1])
    return type(target).__name__.lower(), str(target)


def _actor(actor) -> tuple[Any, str]:
    """(user or None, the name shown): a signed-in user, or a name such as 'worker'."""
    if actor is None:
        return None, ""
    if isinstance(actor, str):
        return None, actor
    if not getattr(actor, "is_authenticated", False):
        return None, "anonymous"
    return actor, actor.get_username()


@transaction.atomic
def audit_record(
    *,
    project: Project,
    actor=None,
    action: str,
    target=None,
    before: Any = None,
    after: Any = None,
    message: str = "",
    version: DatasetVersion | None = None,
) -> AuditEvent:
    """Append one event to ``project``'s audit log (see `audit_event_build`)."""
    event = audit_event_build(
        project=project,
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
        message=message,
        version=version,
    )
    event.save()
    return event


def audit_event_build(
    *,
    project: Project,
    actor=None,
    action: str,
    target=None,
    before: Any = None,
    after: Any = None,
    message: str = "",
    version: DatasetVersion | None = None,
) -> AuditEvent:
    """One unsaved event, for services that insert many at once (``bulk_create``, inside
    their own transaction); `audit_record` saves it straight away.

    ``actor`` is a user, a plain name for non-human actors (``"label-studio sync"``), or
    None. ``target`` is a model instance, a ``(type, id)`` pair, or None. ``before`` and
    ``after`` must be JSON-serialisable. ``version`` defaults to ``target`` when the
    target is a dataset version, so the version's audit page finds the event.
    """
    if not action or not action.strip():
        raise ValueError("audit_record needs an action name")
    user, name = _actor(actor)
    target_type, target_id = _target_ref(target)
    if version is None and isinstance(target, DatasetVersion):
        version = target
    return AuditEvent(
        project=project,
        version=version,
        actor=user,
        actor_name=name,
        action=action.strip(),
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        message=message,
    )
