"""Serving: deployments of trained models, the applications that call them, the request
log, feedback events, and A/B experiments between deployments."""

from django.conf import settings
from django.db import models


class Deployment(models.Model):
    """A finished training run's model made answerable under ``name``, on one engine.

    The built-in engine loads the model in each web process on its first request (base once,
    adapters on top); the vLLM engine runs a server of its own, reached at ``engine_url``.
    Starting a deployment is a `curation.Run` of kind ``deployment_start`` that loads the
    model once and answers a smoke request before the deployment turns active.
    """

    class Engine(models.TextChoices):
        BUILTIN = "builtin", "Built-in (transformers, dynamic batching)"
        VLLM = "vllm", "vLLM (own server)"

    class Status(models.TextChoices):
        STARTING = "starting", "Starting"
        ACTIVE = "active", "Active"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped"

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="deployments"
    )
    training_run = models.ForeignKey(
        "training.TrainingRun", on_delete=models.PROTECT, related_name="deployments"
    )
    name = models.SlugField(
        max_length=100, unique=True, help_text="The model name applications ask for."
    )
    engine = models.CharField(max_length=20, choices=Engine.choices, default=Engine.BUILTIN)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.STARTING)
    task_type = models.CharField(max_length=20)
    base_model = models.CharField(max_length=1000)
    adapter_path = models.CharField(max_length=1000, blank=True)
    labels = models.JSONField(default=list, blank=True)
    max_length = models.PositiveIntegerField(default=512)
    decoding = models.JSONField(default=dict, blank=True, help_text="Default decoding.")
    engine_url = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    run = models.ForeignKey(
        "curation.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"deployment {self.name}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def decoding_description(self) -> str:
        """The default decoding in words, for its page (requests may override
        temperature and top_p)."""
        from training.core.decoding import decoding_describe

        return decoding_describe(self.decoding or {})


class Application(models.Model):
    """An application calling a project's deployed models, with its API key. Only the
    key's SHA-256 is stored; the key is shown once, when created."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="applications"
    )
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12)
    key_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "name"]

    def __str__(self) -> str:
        return f"application {self.name} ({self.key_prefix}…)"


class Experiment(models.Model):
    """A champion deployment against one or more challengers, on live traffic.

    Units (the caller's user or session id) are assigned by hashing the unit key with
    ``salt``: the same unit always gets the same variant. The split is the variants'
    ``weight``; each rollout step raises the challengers' share to the next percentage in
    ``rollout_steps`` and opens a new `ExperimentPhase`. The analysis (see
    `serving.selectors.analysis`) decides ship / keep running / roll back / blocked.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SHIPPED = "shipped", "Shipped"
        ROLLED_BACK = "rolled_back", "Rolled back"
        STOPPED = "stopped", "Stopped (kill switch)"

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="experiments"
    )
    name = models.SlugField(
        max_length=100, unique=True, help_text="The model name applications ask for."
    )
    salt = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    primary_metric = models.CharField(max_length=100)
    primary_higher_is_better = models.BooleanField(default=True)
    guardrails = models.JSONField(
        default=list, blank=True, help_text="[{metric, higher_is_better, tolerance}, ...]"
    )
    min_units = models.PositiveIntegerField(
        default=100, help_text="Units per variant before any verdict or rollout step."
    )
    minimum_effect = models.FloatField(
        default=0.05, help_text="The smallest difference worth detecting (absolute)."
    )
    alpha = models.FloatField(default=0.05)
    rollout_steps = models.JSONField(
        default=list, blank=True, help_text="Challengers' share (%) at each later step."
    )
    phase = models.PositiveIntegerField(default=0, help_text="The current rollout step.")
    auto_advance = models.BooleanField(default=True)
    last_analysis = models.JSONField(default=dict, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"experiment {self.name}"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class Variant(models.Model):
    """One arm of an experiment: a deployment and its current share of new units."""

    class Role(models.TextChoices):
        CHAMPION = "champion", "Champion"
        CHALLENGER = "challenger", "Challenger"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="variants")
    role = models.CharField(max_length=20, choices=Role.choices)
    weight = models.FloatField(help_text="Share of new units in the current phase.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "deployment"], name="variant_unique_deployment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.deployment.name}"


class ExperimentPhase(models.Model):
    """A period with one traffic split; a unit belongs to the phase of its first request,
    which is what the sample-ratio check compares against that phase's split."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveIntegerField()
    weights = models.JSONField(help_text="{variant id: share}")
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["experiment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "number"], name="phase_unique_number")
        ]

    def __str__(self) -> str:
        return f"step {self.number} of experiment {self.experiment_id}"


class RequestLog(models.Model):
    """One call to the front door: who asked, which variant answered, what, how fast.
    Written in batches off the response path (`serving.services.request_log`)."""

    request_id = models.CharField(max_length=64, unique=True)
    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="request_logs"
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    unit_key = models.CharField(max_length=200, blank=True)
    experiment = models.ForeignKey(
        Experiment, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    variant = models.ForeignKey(
        Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    phase = models.PositiveIntegerField(null=True, blank=True)
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    training_run = models.ForeignKey(
        "training.TrainingRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    endpoint = models.CharField(max_length=20)
    input = models.JSONField(default=dict)
    output = models.JSONField(default=dict, blank=True)
    latency_ms = models.FloatField(default=0.0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["experiment", "created_at"]),
            models.Index(fields=["deployment", "created_at"]),
            models.Index(fields=["experiment", "unit_key"]),
        ]

    def __str__(self) -> str:
        return self.request_id

    @property
    def output_text(self) -> str:
        """The answer as a person reads it: the generated text, or the labels given."""
        output = self.output or {}
        return output.get("text") or ", ".join(output.get("labels") or [])


class FeedbackEvent(models.Model):
    """Something an application reports about a logged request: thumbs (1 up, 0 down),
    a rating, a correction (the text a person wrote instead), or any custom event such as
    ``resolved`` / ``escalated``. ``event_id`` makes retries count once."""

    request = models.ForeignKey(RequestLog, on_delete=models.CASCADE, related_name="events")
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    event_id = models.CharField(max_length=100)
    name = models.CharField(max_length=50)
    value = models.FloatField(default=1.0)
    correction = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "event_id"], name="feedback_event_unique_id")
        ]
        indexes = [models.Index(fields=["request", "name"])]

    def __str__(self) -> str:
        return f"{self.name}={self.value} on {self.request_id}"
