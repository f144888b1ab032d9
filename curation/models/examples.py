from django.conf import settings
from django.db import models
from django.utils import timezone


class ExampleSource(models.TextChoices):
    IMPORTED = "imported", "Imported"
    HUMAN = "human", "Written by a person"
    WEAK = "weak", "Weakly supervised"
    SYNTHETIC = "synthetic", "Synthetic"
    FEEDBACK = "feedback", "Production feedback"
    GENERAL_DOMAIN = "general_domain", "General domain"


class LabelOrigin(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    LABELING_FUNCTION = "labeling_function", "Labeling-function model"
    MODEL = "model", "Model"
    IMPORT = "import", "Import"


class ReviewStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class Example(models.Model):
    """One unit of data: its content fields, where it came from, and its resolved label.

    ``content_hash`` is the SHA-256 of the normalised content fields (never the label), so
    exact duplicates share it. ``resolved_label`` is derived from the example's `Label`
    rows by `curation.services.labels.example_label_resolve`; nothing else writes it.
    """

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="examples"
    )
    external_id = models.CharField(max_length=255)
    fields = models.JSONField()
    content_hash = models.CharField(max_length=64)
    source = models.CharField(
        max_length=20, choices=ExampleSource.choices, default=ExampleSource.IMPORTED
    )
    provenance = models.JSONField(default=dict, blank=True)
    resolved_label = models.CharField(
        max_length=255, blank=True, help_text="Empty when the example has no label."
    )
    resolved_label_origin = models.CharField(max_length=20, choices=LabelOrigin.choices, blank=True)
    review_status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NOT_REQUIRED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_history = models.JSONField(default=list, blank=True)
    near_duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    near_duplicate_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], name="example_external_id_unique_in_project"
            )
        ]
        indexes = [
            models.Index(fields=["project", "content_hash"]),
            models.Index(fields=["project", "source"]),
            models.Index(fields=["project", "resolved_label"]),
            models.Index(fields=["project", "review_status"]),
        ]

    def __str__(self) -> str:
        return self.external_id


class Label(models.Model):
    """One opinion about an example's label: who or what gave it, how sure, and when."""

    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="labels")
    value = models.TextField()
    origin = models.CharField(max_length=20, choices=LabelOrigin.choices)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    author = models.CharField(
        max_length=255,
        blank=True,
        help_text="Who or what gave the label: an annotator's e-mail, a file, a model name.",
    )
    confidence = models.FloatField(null=True, blank=True)
    external_ref = models.CharField(
        max_length=100, blank=True, help_text="Id in the system the label came from."
    )
    lead_time_seconds = models.FloatField(
        null=True, blank=True, help_text="How long the annotator took, when known."
    )
    meta = models.JSONField(
        default=dict,
        blank=True,
        help_text="Origin-specific details, e.g. a corrected response for generation.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["example", "origin"])]

    def __str__(self) -> str:
        return f"{self.value} ({self.origin})"
