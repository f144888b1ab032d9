from django.conf import settings
from django.db import models


class TaskType(models.TextChoices):
    CLASSIFICATION = "classification", "Text classification"
    GENERATION = "generation", "Generation (prompt → response)"


DEFAULT_FIELD_SCHEMA = {
    TaskType.CLASSIFICATION: ["text"],
    TaskType.GENERATION: ["prompt", "response"],
}


class Project(models.Model):
    """A labelling and fine-tuning effort for one task.

    Classification projects carry an ordered ``label_set``; both task types carry a
    ``field_schema``: the names of the content fields every example has
    (``["text"]`` or ``["prompt", "response"]`` by default).
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    task_type = models.CharField(max_length=20, choices=TaskType.choices)
    label_set = models.JSONField(default=list, blank=True)
    field_schema = models.JSONField(default=list)
    synthetic_share_cap = models.FloatField(
        default=0.30, help_text="Largest share of a version's examples that may be synthetic."
    )
    min_version_size = models.PositiveIntegerField(
        default=10_000, help_text="The readiness report warns below this many examples."
    )
    readiness_thresholds = models.JSONField(
        default=dict,
        blank=True,
        help_text="Overrides of the readiness report's thresholds (see curation.core.readiness).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_classification(self) -> bool:
        return self.task_type == TaskType.CLASSIFICATION

    @property
    def content_fields(self) -> list[str]:
        return list(self.field_schema)
