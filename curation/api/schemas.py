"""Request and response shapes of the JSON API."""

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict, ValidationInfo, model_validator

# Sent by Django's own forms; never a field of ours.
FORM_FIELDS_IGNORED = {"csrfmiddlewaretoken"}


class InputSchema(Schema):
    """The base of every request body and form: a field the endpoint does not know is a
    422 naming it (see `curation.api.app`), never silently dropped. A misspelt
    ``label_set`` must not create a project without labels."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_form_fields(cls, data: Any, info: ValidationInfo) -> Any:
        # ninja hands a form schema only the form fields it knows; put the others back
        # so that extra="forbid" names them as it does for a JSON body.
        request = (info.context or {}).get("request")
        if request is None or not isinstance(data, dict) or not request.POST:
            return data
        unknown = set(request.POST) - set(cls.model_fields) - FORM_FIELDS_IGNORED
        return {**data, **{name: request.POST[name] for name in sorted(unknown)}}


class ErrorOut(Schema):
    detail: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    option: str | None = None


class ValidationErrorOut(Schema):
    """A request that does not fit its endpoint: ``detail`` in words, pydantic's list in
    ``errors``."""

    detail: str
    errors: list[dict]


class ProjectIn(InputSchema):
    name: str
    task_type: str = Field(description="classification or generation")
    labels: list[str] = Field(default_factory=list, description="Classification label set.")
    fields: list[str] | None = Field(None, description="Content field names (defaults by type).")
    description: str = ""


class ProjectOut(Schema):
    id: int
    name: str
    description: str
    task_type: str
    label_set: list[str]
    field_schema: list[str]
    created_at: datetime
    example_count: int | None = None
    version_count: int | None = None


class ProjectDetailOut(ProjectOut):
    examples_by_source: dict[str, int]
    examples_by_label: dict[str, int] = Field(description='"" counts unlabelled examples.')


class ExampleFilters(Schema):
    source: str | None = None
    label: str | None = None
    version: int | None = Field(None, description="A version number of the project.")
    split: str | None = Field(None, description="train, validation or test; needs version.")
    search: str | None = Field(None, description="Case-insensitive text in any content field.")


class ExampleOut(Schema):
    id: int
    external_id: str
    fields: dict[str, str]
    source: str
    resolved_label: str
    resolved_label_origin: str
    created_at: datetime


class ImportOptionsIn(InputSchema):
    """Multipart form fields sent with the file."""

    format: str = "auto"
    mapping: str = Field(
        "{}", description='JSON object, Assay field -> column, e.g. {"text": "review"}.'
    )
    has_header: bool = True
    columns: str | None = Field(None, description="Comma-separated, for header-less files.")
    delimiter: str | None = None
    quoting: bool = True
    encoding: str = "utf-8"
    split: str | None = None
    synthetic_generator: str | None = Field(
        None, description="Import as synthetic examples, pending review, made by this generator."
    )
    synthetic_method: str | None = None
    synthetic_seed: str | None = None


class RunOut(Schema):
    id: int
    kind: str
    status: str
    progress: int
    message: str
    error: str
    result: dict
    project_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # A cancel was asked for; the run stops at its next progress point.
    cancel_requested: bool = False


class VersionOut(Schema):
    id: int
    project_id: int
    number: int
    status: str
    seed: int
    split_ratios: dict | list
    content_hash: str
    note: str
    parent_id: int | None
    created_at: datetime
    reviewed_at: datetime | None
    review_comment: str
    override_reason: str = ""


class VersionDetailOut(VersionOut):
    manifest: dict
    split_counts: dict[str, int]
    label_distribution: dict[str, dict[str, int]]


class VersionBuildIn(InputSchema):
    seed: int = 0
    note: str = ""


class ReviewIn(InputSchema):
    comment: str = ""
    override_reason: str = Field(
        "", description="Needed to approve while a readiness check fails; kept and audited."
    )


class ExportIn(InputSchema):
    formats: list[str] | None = Field(None, description="hf_dataset, parquet, jsonl; all if unset")


class ExportFileOut(Schema):
    path: str
    sha256: str
    size_bytes: int


class ExportOut(Schema):
    id: int
    version_id: int
    formats: list[str]
    path: str
    created_at: datetime
    files: list[ExportFileOut]

    @staticmethod
    def resolve_files(export) -> list:
        return list(export.files.all())


class VerificationOut(Schema):
    ok: bool
    expected_hash: str
    actual_hash: str
    tampered_rows: list[str]
    problems: list[str]
