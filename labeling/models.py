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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "ls_task_id"], name="ls_task_linked_once")
        ]

    def __str__(self) -> str:
        return f"{self.example} → LS task {self.ls_task_id}"
