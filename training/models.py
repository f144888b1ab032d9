"""The model registry: one `TrainingRun` per fine-tuning launched on an approved version."""

from django.conf import settings
from django.db import models


class TrainingRun(models.Model):
    """A fine-tuning job and the model it produced, with its full lineage.

    Records the dataset version and its content hash at launch, the configuration, the
    code version (git revision), the pre-launch estimate, the curves (training loss and
    validation metrics by step), the final comparison with the base model and a trivial
    baseline, the forgetting check, the artifact (a LoRA adapter or full weights) and a
    model card. Its work is done by `curation.Run` rows of kind ``training`` that target
    it: the first attempt, and one more per resume after a killed worker.
    """

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="training_runs"
    )
    version = models.ForeignKey(
        "curation.DatasetVersion", on_delete=models.PROTECT, related_name="training_runs"
    )
    version_hash = models.CharField(max_length=64, help_text="The version's hash at launch.")
    task_type = models.CharField(max_length=20)
    method = models.CharField(max_length=10)
    base_model = models.CharField(max_length=500)
    config = models.JSONField()
    code_version = models.CharField(max_length=64, blank=True)
    estimate = models.JSONField(default=dict, blank=True)
    run = models.ForeignKey(
        "curation.Run",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The latest attempt.",
    )
    history = models.JSONField(default=dict, blank=True)
    best_metric = models.JSONField(default=dict, blank=True)
    comparison = models.JSONField(null=True, blank=True)
    forgetting = models.JSONField(null=True, blank=True)
    train_seconds = models.FloatField(null=True, blank=True)
    global_step = models.PositiveIntegerField(default=0)
    output_dir = models.CharField(max_length=1000)
    artifact_path = models.CharField(max_length=1000, blank=True)
    artifact_kind = models.CharField(max_length=30, blank=True)
    model_card = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"training run {self.pk} on {self.version}"

    @property
    def status(self) -> str:
        return self.run.status if self.run_id else "queued"

    @property
    def verdict(self) -> str:
        return (self.comparison or {}).get("verdict", "")
