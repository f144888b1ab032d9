"""Curation's data model: projects, examples, labels, dataset versions, exports and runs."""

from .api_tokens import ApiToken
from .audit import AuditEvent
from .examples import Example, ExampleSource, Label, LabelOrigin, ReviewStatus
from .exports import DatasetExport, ExportFile, ExportFormat
from .memberships import ProjectMembership, Role
from .projects import Project, TaskType
from .runs import Run, RunStatus
from .versions import (
    DatasetVersion,
    DatasetVersionMember,
    DatasetVersionRemoval,
    Split,
    VersionStatus,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "DatasetExport",
    "DatasetVersion",
    "DatasetVersionMember",
    "DatasetVersionRemoval",
    "Example",
    "ExampleSource",
    "ExportFile",
    "ExportFormat",
    "Label",
    "LabelOrigin",
    "Project",
    "ReviewStatus",
    "ProjectMembership",
    "Role",
    "Run",
    "RunStatus",
    "Split",
    "TaskType",
    "VersionStatus",
]
