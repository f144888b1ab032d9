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
    stopped_at_budget = models.BooleanField(
        default=False, help_text="Training ended at the config's time budget (max_minutes)."
    )
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

    @property
    def decoding_description(self) -> str:
        """How the run's evaluation generated, in words (generation runs)."""
        from training.core.decoding import decoding_describe

        config = self.config or {}
        names = ("num_beams", "length_penalty", "temperature", "top_p")
        return decoding_describe({name: config[name] for name in names if name in config})


class PreferenceStudy(models.Model):
    """A blind human comparison of a generation run's test outputs with the base model's.

    A sample of the test prompts kept by the run's final evaluation goes to a Label Studio
    project, one task per prompt showing "Response A" and "Response B"; which one is the
    fine-tuned response is drawn per item (seeded) and stays in `PreferenceItem`. Pulling
    reads the annotators' votes back into `PreferenceVote` rows, from which the preference
    rate is computed (`training.core.preference`).
    """

    training_run = models.ForeignKey(
        TrainingRun, on_delete=models.CASCADE, related_name="preference_studies"
    )
    ls_project_id = models.PositiveIntegerField(help_text="The Label Studio project.")
    ls_project_url = models.URLField(max_length=1000)
    sample_size = models.PositiveIntegerField(help_text="Pairs sent to Label Studio.")
    identical_skipped = models.PositiveIntegerField(
        default=0, help_text="Stored pairs left out because both responses were the same."
    )
    annotators_per_item = models.PositiveIntegerField(default=1)
    seed = models.IntegerField(help_text="Seeds the draw of the pairs and of the sides.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    pulled_at = models.DateTimeField(null=True, blank=True, help_text="The latest pull.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"preference study {self.pk} of training run {self.training_run_id}"


class PreferenceItem(models.Model):
    """One prompt with the two responses as annotators see them. ``tuned_side`` says which
    of A and B is the fine-tuned model's; it is never sent to Label Studio."""

    class Side(models.TextChoices):
        A = "a", "A"
        B = "b", "B"

    study = models.ForeignKey(PreferenceStudy, on_delete=models.CASCADE, related_name="items")
    sample_index = models.PositiveIntegerField(
        help_text="Position among the samples stored with the run's comparison."
    )
    prompt = models.TextField()
    output_a = models.TextField()
    output_b = models.TextField()
    tuned_side = models.CharField(max_length=1, choices=Side.choices)
    ls_task_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["study", "sample_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "sample_index"], name="preference_item_unique_sample"
            )
        ]

    def __str__(self) -> str:
        return f"preference item {self.sample_index} of study {self.study_id}"


class PreferenceVote(models.Model):
    """One annotator's answer on one item, mirrored from a Label Studio annotation (its id
    in ``ls_annotation_id``): A better, B better, or a tie. Pulling again updates it."""

    class Choice(models.TextChoices):
        A = "a", "A is better"
        B = "b", "B is better"
        TIE = "tie", "About the same"

    item = models.ForeignKey(PreferenceItem, on_delete=models.CASCADE, related_name="votes")
    ls_annotation_id = models.PositiveIntegerField()
    choice = models.CharField(max_length=3, choices=Choice.choices)
    annotator_email = models.CharField(max_length=254, blank=True)
    annotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "ls_annotation_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "ls_annotation_id"], name="preference_vote_unique_annotation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_choice_display()} by {self.annotator_email or 'unknown'}"
