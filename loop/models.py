"""Loop: per-project policy (alert thresholds, webhook, budget), alerts raised by
monitoring, retraining triggers, retraining cycles (trigger → version → run →
deployment → experiment → verdict), and live-quality samples of logged requests labelled
by people."""

from django.conf import settings
from django.db import models


class LoopPolicy(models.Model):
    """A project's loop settings. Thresholds name monitoring metrics (see
    `loop.core.drift.METRICS`); a missing one takes the default there."""

    project = models.OneToOneField(
        "curation.Project", on_delete=models.CASCADE, related_name="loop_policy"
    )
    alert_thresholds = models.JSONField(default=dict, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True, help_text="Alerts are POSTed here.")
    window_hours = models.PositiveIntegerField(
        default=168, help_text="Monitoring window length (hours; a week by default)."
    )
    min_window_requests = models.PositiveIntegerField(
        default=30, help_text="No alert from a window with fewer requests than this."
    )
    feedback_batch_size = models.PositiveIntegerField(
        default=50, help_text="Pending feedback examples pushed to Label Studio per batch."
    )
    budget = models.FloatField(
        null=True, blank=True, help_text="Total compute budget (currency units); empty: none."
    )
    budget_warn_share = models.FloatField(
        default=0.8, help_text="Warn once spending passes this share of the budget."
    )
    challenger_share = models.FloatField(
        default=0.1, help_text="Share of traffic a proposed challenger experiment starts with."
    )
    live_quality_sample_size = models.PositiveIntegerField(
        default=30,
        help_text="Logged requests drawn per variant and ISO week for human labelling.",
    )
    live_quality_ls_project_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The Label Studio project live-quality samples go to."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"loop policy of {self.project}"


class Alert(models.Model):
    """A monitoring metric past its threshold for one deployment and window."""

    project = models.ForeignKey("curation.Project", on_delete=models.CASCADE, related_name="+")
    deployment = models.ForeignKey(
        "serving.Deployment", on_delete=models.CASCADE, related_name="alerts"
    )
    metric = models.CharField(max_length=50)
    value = models.FloatField()
    threshold = models.FloatField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    webhook_status = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "metric", "window_start"], name="alert_once_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric}={self.value:.3g} on {self.deployment_id}"


class RetrainingTrigger(models.Model):
    """A rule that starts a retraining cycle when it fires (checked by `loop_tick`)."""

    class Kind(models.TextChoices):
        METRIC_BELOW = "metric_below", "Live metric below a threshold"
        DRIFT_ABOVE = "drift_above", "Drift above a threshold"
        NEW_EXAMPLES = "new_examples", "N newly accepted examples"
        SCHEDULE = "schedule", "Schedule (cron)"

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="retraining_triggers"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    metric = models.CharField(max_length=50, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.pk})"


class RetrainingCycle(models.Model):
    """One firing of a trigger and everything it started. ``reason`` says why (the rule,
    the numbers, the window). The chain waits at ``awaiting_approval`` until a data lead
    approves the draft version: nothing trains on an unapproved version."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for the version's approval"
        TRAINING = "training", "Training"
        PROPOSED = "proposed", "Better: challenger experiment proposed"
        EXPERIMENT = "experiment", "Experiment running"
        NOT_BETTER = "not_better", "Not better than the champion"
        REJECTED = "rejected", "Version rejected"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="retraining_cycles"
    )
    trigger = models.ForeignKey(
        RetrainingTrigger, null=True, blank=True, on_delete=models.SET_NULL, related_name="cycles"
    )
    reason = models.JSONField(default=dict)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_APPROVAL
    )
    champion = models.ForeignKey(
        "serving.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        "curation.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    training_run = models.ForeignKey(
        "training.TrainingRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    challenger = models.ForeignKey(
        "serving.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    experiment = models.ForeignKey(
        "serving.Experiment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evaluation = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"retraining cycle {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.AWAITING_APPROVAL, self.Status.TRAINING)


class MonitoringSnapshot(models.Model):
    """A deployment's monitoring numbers over one time window (recomputed while the
    window is open). ``metrics`` holds the values `loop.core.drift.METRICS` names, plus
    counts and details."""

    deployment = models.ForeignKey(
        "serving.Deployment", on_delete=models.CASCADE, related_name="snapshots"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict)
    details = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment", "window_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "window_start"], name="snapshot_once_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"snapshot of {self.deployment_id} from {self.window_start:%Y-%m-%d %H:%M}"


class LiveQualitySample(models.Model):
    """One stratified draw of a deployment's logged requests for human labelling: up to
    ``size`` requests per variant and ISO week that no earlier draw took. ``strata`` maps
    ``"<variant>|<week>"`` to how many requests this draw took there."""

    project = models.ForeignKey("curation.Project", on_delete=models.CASCADE, related_name="+")
    deployment = models.ForeignKey(
        "serving.Deployment", on_delete=models.CASCADE, related_name="live_quality_samples"
    )
    size = models.PositiveIntegerField()
    seed = models.IntegerField(default=0)
    strata = models.JSONField(default=dict, blank=True)
    ls_project_id = models.PositiveIntegerField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"live-quality sample {self.pk} of {self.deployment_id}"


class LiveQualityItem(models.Model):
    """One input of a sampled request, with the model's answer and, once a person has
    labelled it, the gold: the right class, or for generation the reference (``verdict``
    keeps the annotator's accept / reject; a rejected answer without a reference scores
    0)."""

    sample = models.ForeignKey(LiveQualitySample, on_delete=models.CASCADE, related_name="items")
    deployment = models.ForeignKey(
        "serving.Deployment", on_delete=models.CASCADE, related_name="live_quality_items"
    )
    # The label outlives the request log's retention: input and answer are copied here.
    request = models.ForeignKey(
        "serving.RequestLog", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    input_index = models.PositiveIntegerField(default=0)
    variant = models.CharField(max_length=120, help_text="The experiment variant, or 'direct'.")
    week = models.CharField(max_length=8, help_text="ISO week of the request, e.g. 2026-W48.")
    input_text = models.TextField()
    output = models.TextField(blank=True)
    ls_task_id = models.PositiveIntegerField(null=True, blank=True)
    gold = models.TextField(blank=True)
    verdict = models.CharField(max_length=20, blank=True)
    labelled_by = models.CharField(max_length=200, blank=True)
    labelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "input_index"], name="live_quality_item_once_per_input"
            )
        ]
        indexes = [models.Index(fields=["deployment", "week"])]

    def __str__(self) -> str:
        return f"live-quality item {self.pk} ({self.week})"

    @property
    def external_id(self) -> str:
        return f"live-quality-{self.pk}"

    @property
    def is_labelled(self) -> bool:
        return self.labelled_at is not None
