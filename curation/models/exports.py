from django.conf import settings
from django.db import models


class ExportFormat(models.TextChoices):
    HF_DATASET = "hf_dataset", "Saved Hugging Face dataset"
    PARQUET = "parquet", "Parquet"
    JSONL = "jsonl", "JSON Lines"


class DatasetExport(models.Model):
    """A folder of files written from one dataset version, each file with its SHA-256."""

    version = models.ForeignKey(
        "curation.DatasetVersion", on_delete=models.PROTECT, related_name="exports"
    )
    formats = models.JSONField()
    path = models.CharField(max_length=1000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.version}"


class ExportFile(models.Model):
    export = models.ForeignKey(DatasetExport, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500, help_text="Relative to the export folder.")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path
