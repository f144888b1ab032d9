"""Links between Assay objects and their Label Studio counterparts."""

from django.db import models


class LabelStudioLink(models.Model):
    """An Assay project's Label Studio project, and what the last syncs saw.

    The counts are written by push and pull, so pages can show them without asking
    Label Studio (which may be down).
    """

    project = models.OneToOneField(
        "curation.Project", on_delete=models.CASCADE, related_name="label_studio_link"
    )
    ls_project_id = models.PositiveBigIntegerField()
    base_url = models.URLField(help_text="The Label Studio server the project lives on.")
    project_url = models.URLField(help_text="The project's page in Label Studio.")
    label_config = models.TextField(help_text="The labelling interface last sent to LS.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    task_count = models.PositiveIntegerField(default=0)
    annotation_count = models.PositiveIntegerField(default=0)
    cancelled_count = models.PositiveIntegerField(default=0)
    overlap = models.PositiveSmallIntegerField(
        default=1, help_text="Annotators per task (LS maximum_annotations)."
    )
    model_version = models.CharField(
        max_length=200, blank=True, help_text="The pre-annotation version LS shows annotators."
    )
    webhook_id = models.PositiveBigIntegerField(null=True, blank=True)
    pull_watermark = models.DateTimeField(
        null=True, blank=True, help_text="LS updated_at of the newest task an earlier pull read."
    )
    pull_window = models.JSONField(
        default=dict,
        blank=True,
        help_text="LS task id → the updated_at the last pull applied, for the tasks changed "
        "within WATERMARK_SLACK of the watermark: a later pull lists them again and skips "
        "those unchanged.",
    )
    last_full_pull_at = models.DateTimeField(null=True, blank=True)
    hint_received_at = models.DateTimeField(
        null=True, blank=True, help_text="When a webhook last said something changed in LS."
    )
    full_pull_requested = models.BooleanField(
        default=False, help_text="A webhook reported deletions: the next pull reads everything."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["base_url", "ls_project_id"], name="ls_project_linked_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project} → LS project {self.ls_project_id}"

    @property
    def last_sync_at(self):
        times = [t for t in (self.last_push_at, self.last_pull_at) if t]
        return max(times) if times else None


class TaskLink(models.Model):
    """An example's task in the linked Label Studio project; one task per example and one
    example per task, so a push never creates a second task for the same example."""

    link = models.ForeignKey(LabelStudioLink, on_delete=models.CASCADE, related_name="tasks")
    example = models.OneToOneField(
        "curation.Example", on_delete=models.CASCADE, related_name="label_studio_task"
    )
    ls_task_id = models.PositiveBigIntegerField()
    prediction_versions = models.JSONField(
        default=list, blank=True, help_text="model_version of each pre-annotation pushed."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "ls_task_id"], name="ls_task_linked_once")
        ]

    def __str__(self) -> str:
        return f"{self.example} → LS task {self.ls_task_id}"


class Consensus(models.Model):
    """The annotators' consensus on an example: the majority label (which is also the
    example's resolved label) and how strongly they agree on it.

    ``agreement`` is the share of the example's annotators who chose ``value``: 1.0 when
    all agree, 0.5 for a two-to-two split. Written by the pull, one row per example with
    at least one annotator label.
    """

    example = models.OneToOneField(
        "curation.Example", on_delete=models.CASCADE, related_name="consensus"
    )
    value = models.TextField()
    agreement = models.FloatField()
    annotator_count = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.example}: {self.value} ({self.agreement:.0%} of {self.annotator_count})"
