from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One state change, recorded by the service that made it: who, when, what, and the
    before/after values. Append-only: services only ever insert, and database triggers
    (migration 0006) refuse UPDATE and DELETE of a row, so history cannot be rewritten.

    ``target_type``/``target_id`` name the changed object loosely (a model label and a
    primary key) instead of a foreign key, so an event outlives what it describes.
    ``version`` is set when the change concerns one dataset version, for its audit page.
    """

    project = models.ForeignKey(
        "curation.Project", on_delete=models.PROTECT, related_name="audit_events"
    )
    # No constraint: the record of a draft version outlives the version, if it is deleted.
    version = models.ForeignKey(
        "curation.DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    actor_name = models.CharField(
        max_length=255, blank=True, help_text="Username at the time, or the system's name."
    )
    action = models.CharField(max_length=60, help_text="What happened, e.g. 'version.approve'.")
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["project", "-at"]),
            models.Index(fields=["project", "action"]),
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name or 'system'} at {self.at:%Y-%m-%d %H:%M}"
