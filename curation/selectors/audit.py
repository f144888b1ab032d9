"""Audit log selectors: a project's or a version's events, filtered for the log pages."""

from datetime import date

from django.db.models import Q, QuerySet

from curation.models import AuditEvent, DatasetVersion, Project


def audit_events(
    *,
    project: Project,
    version: DatasetVersion | None = None,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """Events newest first, narrowed by every filter given. ``action`` matches a prefix
    (``"label"`` finds ``label.add`` and ``label.update``); ``actor`` is a username."""
    events = AuditEvent.objects.filter(project=project).select_related("actor", "version")
    if version is not None:
        events = events.filter(
            Q(version=version) | Q(target_type="curation.datasetversion", target_id=str(version.pk))
        )
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_name=actor)
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return events.order_by("-at", "-id")


def audit_action_names(*, project: Project) -> list[str]:
    """The distinct actions recorded in a project, for the filter's choices."""
    rows = AuditEvent.objects.filter(project=project).values_list("action", flat=True)
    return sorted(set(rows.order_by()))
