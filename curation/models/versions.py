from django.conf import settings
from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


class DatasetVersion(models.Model):
    """A frozen, content-hashed snapshot of a project's curated examples, split 80/10/10.

    Membership, labels and splits are fixed when the version is built. Once approved,
    nothing about the version or its members may change: the services refuse it and
    database triggers (migration 0002) abort any UPDATE or DELETE that tries.
    """

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    status = models.CharField(
        max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    seed = models.IntegerField(default=0)
    split_ratios = models.JSONField()
    content_hash = models.CharField(max_length=64)
    manifest = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    readiness = models.JSONField(
        default=dict, blank=True, help_text="The last readiness report (curation.core.readiness)."
    )
    readiness_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(
        blank=True, help_text="Why the version was approved although a readiness check failed."
    )

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project.name} v{self.number}"

    @property
    def is_approved(self) -> bool:
        return self.status == VersionStatus.APPROVED


class DatasetVersionMember(models.Model):
    """An example as frozen into a version: its content, resolved label and split.

    The content is copied so a version stays reproducible whatever later happens to the
    example. ``row_hash`` covers every frozen column; the version's hash covers all rows.
    """

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="members")
    example = models.ForeignKey(
        "curation.Example", on_delete=models.PROTECT, related_name="version_memberships"
    )
    external_id = models.CharField(max_length=255)
    fields = models.JSONField()
    label = models.CharField(max_length=255, blank=True)
    label_origin = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=20)
    split = models.CharField(max_length=12, choices=Split.choices)
    content_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "example"], name="member_once_per_version")
        ]
        indexes = [models.Index(fields=["version", "split"])]

    def __str__(self) -> str:
        return f"{self.external_id} in {self.split}"
