from functools import cached_property

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
    stores_delta = models.BooleanField(
        null=True,
        blank=True,
        help_text=(
            "True: the version stores only the member rows its parent lacks, and a removal "
            "for each parent row it drops. False or empty (versions built before deltas): "
            "it stores every member row itself."
        ),
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

    @cached_property
    def storage_chain(self) -> list[int]:
        """The ids of the versions whose stored rows make up this one: itself, then each
        parent while the version below stores a delta. Fixed at build (a version's parent
        and storage never change), so it is cached on the instance."""
        if not self.stores_delta:
            return [self.pk]
        rows = DatasetVersion.objects.filter(project_id=self.project_id).values_list(
            "pk", "parent_id", "stores_delta"
        )
        links = {pk: parent for pk, parent, delta in rows if delta}
        chain = [self.pk]
        while links.get(chain[-1]) is not None:
            chain.append(links[chain[-1]])
        return chain

    @property
    def members(self) -> "models.QuerySet[DatasetVersionMember]":
        """Every member of the version, however it is stored, in example order. For a
        delta version: the rows stored along its chain, less those a version on the chain
        removed. Readers never need to know which."""
        chain = self.storage_chain
        if len(chain) == 1:
            rows = DatasetVersionMember.objects.filter(version_id=self.pk)
        else:
            removed = DatasetVersionRemoval.objects.filter(version_id__in=chain)
            rows = DatasetVersionMember.objects.filter(version_id__in=chain).exclude(
                pk__in=removed.values("member_id")
            )
        return rows.order_by("example_id")


class DatasetVersionMember(models.Model):
    """An example as frozen into a version: its content, resolved label and split.

    The content is copied so a version stays reproducible whatever later happens to the
    example. ``row_hash`` covers every frozen column; the version's hash covers all rows.
    """

    version = models.ForeignKey(
        DatasetVersion,
        on_delete=models.CASCADE,
        related_name="stored_members",
        help_text="The version that stored the row; later delta versions share it.",
    )
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


class DatasetVersionRemoval(models.Model):
    """A parent's member that a delta version does not keep: dropped, relabelled, moved or
    edited (an edited or relabelled example is stored again as a new row of the child).
    Immutable with its version, like the member rows (migration 0009)."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="removals")
    member = models.ForeignKey(DatasetVersionMember, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "member"], name="removal_once_per_version")
        ]

    def __str__(self) -> str:
        return f"v{self.version_id} drops member {self.member_id}"
