"""Reads about LF applications and label-model fits."""

import numpy as np

from curation.models import Label, LabelOrigin, Project
from curation.weak_supervision.core.analysis import row_conflicts
from curation.weak_supervision.models import LabelModelFit, LFApplication


def latest_application(project: Project) -> LFApplication | None:
    return LFApplication.objects.filter(project=project).first()


def application_matrix(application: LFApplication) -> tuple[np.ndarray, np.ndarray]:
    """(example ids, label matrix) of an application."""
    ids = np.frombuffer(bytes(application.example_ids), dtype=np.int64)
    width = len(application.lf_versions)
    matrix = np.frombuffer(bytes(application.matrix), dtype=np.int16).astype(np.int64)
    return ids, matrix.reshape(len(ids), width)


def project_fits(project: Project, *, limit: int = 10):
    return LabelModelFit.objects.filter(project=project).select_related("application")[:limit]


def review_candidates(project: Project, *, threshold: float) -> list[int]:
    """Examples worth a human look: the weak label's confidence is below ``threshold`` or
    the LFs disagreed on it, and no person or import has labelled it."""
    uncertain = set(
        Label.objects.filter(
            example__project=project,
            origin=LabelOrigin.LABELING_FUNCTION,
            confidence__lt=threshold,
        ).values_list("example_id", flat=True)
    )
    application = latest_application(project)
    if application is not None:
        ids, matrix = application_matrix(application)
        uncertain |= set(ids[row_conflicts(matrix)].tolist())
    human = set(
        Label.objects.filter(
            example__project=project, origin__in=[LabelOrigin.ANNOTATOR, LabelOrigin.IMPORT]
        ).values_list("example_id", flat=True)
    )
    return sorted(uncertain - human)
