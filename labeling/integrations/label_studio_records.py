"""What the Label Studio adapter speaks in: Assay's records of LS projects, tasks,
annotations and predictions, free of the SDK's types."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from labeling.core.label_config import EXTERNAL_ID_KEY


@dataclass(frozen=True)
class LsProject:
    id: int
    title: str
    url: str
    label_config: str = ""
    model_version: str = ""
    maximum_annotations: int = 1


@dataclass(frozen=True)
class LsPrediction:
    id: int
    task_id: int
    model_version: str
    score: float | None
    result: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class LsTask:
    """A task; ``annotations`` is filled only by `annotated_tasks`."""

    id: int
    data: dict[str, Any]
    updated_at: datetime | None = None
    annotations: tuple["LsAnnotation", ...] = ()

    @property
    def external_id(self) -> str | None:
        value = self.data.get(EXTERNAL_ID_KEY)
        return None if value is None else str(value)


@dataclass(frozen=True)
class LsAnnotation:
    id: int
    task_id: int
    user_id: int | None
    user_email: str
    task_external_id: str | None = None
    result: list[dict] = field(default_factory=list)
    lead_time: float | None = None
    was_cancelled: bool = False
    updated_at: datetime | None = None
