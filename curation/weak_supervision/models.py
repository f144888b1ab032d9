"""Weak supervision's data: labeling functions and their versions, each application of
them (the label matrix and which LF versions made it), and each label-model fit."""

from django.conf import settings
from django.db import models


class LFKind(models.TextChoices):
    KEYWORD = "keyword", "Keywords"
    REGEX = "regex", "Regular expression"
    LENGTH = "length", "Length bounds"
    FIELD_OVERLAP = "field_overlap", "Overlap between fields"
    STOPWORD_SHARE = "stopword_share", "English function-word share"
    PYTHON = "python", "Python function"


class LabelingFunction(models.Model):
    """A named rule of a project that votes one label or abstains. Its rule lives in its
    versions: editing makes a new version, so old applications keep meaning what they
    meant. Python LFs are synchronised from the project's LF module (`LFModuleSetting`)."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="labeling_functions"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=LFKind.choices)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="lf_name_unique_in_project")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def latest_version(self) -> "LabelingFunctionVersion | None":
        return self.versions.order_by("-number").first()


class LabelingFunctionVersion(models.Model):
    """One immutable state of an LF: its kind, parameters and the label it votes.
    For Python LFs ``params`` holds the module and the SHA-256 of the function's source."""

    labeling_function = models.ForeignKey(
        LabelingFunction, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=LFKind.choices)
    label = models.CharField(max_length=255, blank=True, help_text="Empty: the function decides.")
    params = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["labeling_function", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["labeling_function", "number"], name="lf_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.labeling_function.name} v{self.number}"


class LFModuleSetting(models.Model):
    """Where a project's Python LFs live: a dotted module path on the server's Python path."""

    project = models.OneToOneField(
        "curation.Project", on_delete=models.CASCADE, related_name="lf_module_setting"
    )
    module_path = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.module_path or "(none)"


class LFApplication(models.Model):
    """The LFs' votes on a project's examples at one moment: the label matrix (rows in
    ``example_ids`` order, columns in ``lf_versions`` order, ``-1`` abstains, label
    indices into ``labels``) and its analysis."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="lf_applications"
    )
    run = models.ForeignKey(
        "curation.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lf_versions = models.JSONField(help_text="LabelingFunctionVersion ids, in column order.")
    labels = models.JSONField(help_text="The label names the matrix's indices refer to.")
    example_ids = models.BinaryField(help_text="int64 example ids, one per row.")
    matrix = models.BinaryField(help_text="int16 label matrix, rows × LFs, C order.")
    n_examples = models.PositiveIntegerField()
    analysis = models.JSONField(default=dict)
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"LF application {self.pk} of {self.project}"

    @property
    def versions(self) -> list["LabelingFunctionVersion"]:
        by_id = LabelingFunctionVersion.objects.select_related("labeling_function").in_bulk(
            self.lf_versions
        )
        return [by_id[pk] for pk in self.lf_versions if pk in by_id]


class LabelModelFit(models.Model):
    """A fit of majority vote and Snorkel's LabelModel on one application: both dev
    accuracies, the chosen model, and how many weak labels it wrote."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="label_model_fits"
    )
    application = models.ForeignKey(LFApplication, on_delete=models.CASCADE, related_name="fits")
    run = models.ForeignKey(
        "curation.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.PositiveIntegerField()
    chosen = models.CharField(max_length=20)
    author = models.CharField(max_length=100, help_text="The author of the labels written.")
    dev_size = models.PositiveIntegerField(default=0)
    majority_vote_accuracy = models.FloatField(null=True, blank=True)
    label_model_accuracy = models.FloatField(null=True, blank=True)
    labels_written = models.PositiveIntegerField(default=0)
    low_confidence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="fit_number_unique")
        ]

    def __str__(self) -> str:
        return f"Fit {self.number} of {self.project} ({self.chosen})"
