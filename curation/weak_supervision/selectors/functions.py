"""Reads about LFs and the rows they run on."""

from dataclasses import dataclass

import numpy as np
from django.db.models import Prefetch

from curation.models import Example, LabelOrigin, Project
from curation.weak_supervision.models import LabelingFunction, LabelingFunctionVersion

HUMAN_ORIGINS = (LabelOrigin.ANNOTATOR, LabelOrigin.IMPORT)
GENERATION_VOTES = ["accept", "reject"]


def project_vote_labels(project: Project) -> list[str]:
    """What an LF may vote: the label set, or accept/reject for generation projects."""
    return list(project.label_set) if project.is_classification else list(GENERATION_VOTES)


def project_labeling_functions(project: Project, *, active_only: bool = False):
    """The project's LFs, each with ``current`` (its latest version) and ``version_count``."""
    lfs = LabelingFunction.objects.filter(project=project).prefetch_related(
        Prefetch("versions", queryset=LabelingFunctionVersion.objects.order_by("-number"))
    )
    if active_only:
        lfs = lfs.filter(is_active=True)
    result = list(lfs)
    for lf in result:
        versions = list(lf.versions.all())
        lf.current = versions[0] if versions else None
        lf.version_count = len(versions)
    return result


@dataclass
class ProjectRows:
    """A project's examples as columns: ids, content fields, and the human label index
    (``-1`` when there is none) that makes a row part of the dev set."""

    example_ids: np.ndarray
    fields: dict[str, list[str]]
    gold: np.ndarray

    def __len__(self) -> int:
        return len(self.example_ids)


def project_rows(project: Project, *, limit: int | None = None) -> ProjectRows:
    labels = {name: i for i, name in enumerate(project_vote_labels(project))}
    names = project.content_fields
    query = Example.objects.filter(project=project).order_by("id")
    if limit is not None:
        query = query[:limit]
    ids, gold, columns = [], [], {name: [] for name in names}
    for pk, fields, label, origin in query.values_list(
        "id", "fields", "resolved_label", "resolved_label_origin"
    ).iterator(chunk_size=5000):
        ids.append(pk)
        for name in names:
            value = fields.get(name)
            columns[name].append("" if value is None else str(value))
        gold.append(labels.get(label, -1) if origin in HUMAN_ORIGINS else -1)
    return ProjectRows(np.array(ids, dtype=np.int64), columns, np.array(gold, dtype=np.int64))
