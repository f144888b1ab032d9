"""Data-quality records: a project's expectation rules, each quality check of a version
(or of the project's current examples), its expectation results, and the findings a
person reviews."""

from django.conf import settings
from django.db import models


class ExpectationKind(models.TextChoices):
    NOT_EMPTY = "not_empty", "Text is not empty"
    LENGTH_BETWEEN = "length_between", "Text length is within bounds"
    LABEL_IN_SET = "label_in_set", "Label is in the label set"
    UNIQUE_EXTERNAL_ID = "unique_external_id", "External ids are unique"
    NO_PII = "no_pii", "No personal data (e-mail, phone, card numbers)"
    NOT_MATCH_REGEX = "not_match_regex", "Text does not match a pattern"


class ExpectationRule(models.Model):
    """One expectation of a project's suite, as a person edits it: a kind, the column it
    checks (a content field, ``label`` or ``external_id``) and its parameters. The suite
    is the project's enabled rules; `curation.quality.core.expectations` runs them."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="expectation_rules"
    )
    kind = models.CharField(max_length=30, choices=ExpectationKind.choices)
    column = models.CharField(max_length=100, default="text")
    params = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.column})"


class QualityCheck(models.Model):
    """One run of the quality checks over a dataset version's members (or, without a
    version, over the project's labelled examples). ``summary`` holds the counts the pages
    and the readiness report read; see `version_quality_summary`."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="quality_checks"
    )
    version = models.ForeignKey(
        "curation.DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quality_checks",
    )
    run = models.ForeignKey(
        "curation.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    options = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        target = f"v{self.version.number}" if self.version_id else "current examples"
        return f"quality check {self.pk} of {self.project.name} {target}"


class ExpectationResult(models.Model):
    """How one expectation fared in one check: success, counts and a few offending values."""

    quality_check = models.ForeignKey(
        QualityCheck, on_delete=models.CASCADE, related_name="expectation_results"
    )
    rule = models.ForeignKey(
        ExpectationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )
    kind = models.CharField(max_length=30)
    column = models.CharField(max_length=100)
    description = models.CharField(max_length=500)
    success = models.BooleanField()
    element_count = models.PositiveIntegerField(default=0)
    unexpected_count = models.PositiveIntegerField(default=0)
    unexpected_percent = models.FloatField(default=0.0)
    sample_values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["quality_check", "id"]

    def __str__(self) -> str:
        return f"{self.description}: {'passed' if self.success else 'failed'}"


class FindingKind(models.TextChoices):
    LABEL_ISSUE = "label_issue", "Label issue"
    DUPLICATE = "duplicate", "Near duplicate"
    EXACT_DUPLICATE = "exact_duplicate", "Exact duplicate"
    CROSS_SPLIT_DUPLICATE = "cross_split_duplicate", "Duplicate across splits"
    OUTLIER = "outlier", "Outlier"
    EXPECTATION = "expectation", "Failed expectation"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class Finding(models.Model):
    """Something a quality check found that a person should look at: a doubtful label,
    a duplicate cluster, an outlier or a failed expectation. ``score`` orders findings of
    a kind (higher is worse); ``details`` carries kind-specific facts (the suggested label
    and confidences, the cluster's splits, the outlier's reasons, the rule and sample
    values). ``fingerprint`` identifies the same finding across re-runs, so a dismissed
    one stays dismissed."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="findings"
    )
    version = models.ForeignKey(
        "curation.DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="findings",
    )
    quality_check = models.ForeignKey(
        QualityCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    kind = models.CharField(max_length=30, choices=FindingKind.choices)
    examples = models.ManyToManyField("curation.Example", related_name="findings", blank=True)
    details = models.JSONField(default=dict, blank=True)
    score = models.FloatField(default=0.0)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    resolution = models.CharField(
        max_length=40, blank=True, help_text="e.g. accepted_suggested_label, fixed, not_an_issue"
    )
    reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    sent_for_review_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was sent to Label Studio for review."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        indexes = [
            models.Index(fields=["project", "kind", "status"]),
            models.Index(fields=["project", "fingerprint"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"
