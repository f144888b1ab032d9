"""Fitting majority vote and Snorkel's LabelModel on an application, keeping the better one
on the human-labelled dev rows, and writing its probabilistic labels as weak labels."""

import numpy as np
from django.db import transaction
from django.db.models import Max

from curation.models import Example, LabelOrigin, Project
from curation.services.audit import audit_record
from curation.services.labels import labels_replace_for_origin
from curation.services.runs import Progress, SilentProgress, run_enqueue
from curation.weak_supervision.core.label_models import (
    LABEL_MODEL,
    fit_and_choose,
    predictions,
)
from curation.weak_supervision.models import LabelModelFit, LFApplication
from curation.weak_supervision.selectors.applications import application_matrix
from curation.weak_supervision.selectors.functions import HUMAN_ORIGINS

LOW_CONFIDENCE = 0.7


def _gold(application: LFApplication, example_ids: np.ndarray) -> np.ndarray:
    """Human label index per row, read now (labels may have arrived since applying)."""
    index = {label: i for i, label in enumerate(application.labels)}
    human = dict(
        Example.objects.filter(
            project=application.project_id, resolved_label_origin__in=HUMAN_ORIGINS
        ).values_list("id", "resolved_label")
    )
    return np.array([index.get(human.get(int(pk), ""), -1) for pk in example_ids], dtype=np.int64)


def label_model_fit(
    *, application: LFApplication, progress: Progress | None = None, run=None
) -> LabelModelFit:
    """Fit both models, choose on the dev rows, and replace the project's weak labels."""
    progress = progress or SilentProgress()
    ids, matrix = application_matrix(application)
    gold = _gold(application, ids)
    progress.update(5, f"Fitting on {len(ids):,} rows, {int((gold >= 0).sum()):,} in the dev set")
    best, results = fit_and_choose(matrix, gold, cardinality=len(application.labels))
    accuracies = {result.name: result.dev_accuracy for result in results}
    for name, value in accuracies.items():
        progress.log(f"{name}: dev accuracy {'n/a' if value is None else f'{value:.4f}'}")
    progress.update(60, f"Writing weak labels from {best.name.replace('_', ' ')}")
    return _fit_save(
        application=application,
        run=run,
        chosen=best.name,
        probabilities=best.probabilities,
        ids=ids,
        accuracies=accuracies,
        dev_size=int((gold >= 0).sum()),
    )


@transaction.atomic
def _fit_save(*, application, run, chosen, probabilities, ids, accuracies, dev_size):
    project = application.project
    number = (project.label_model_fits.aggregate(n=Max("number"))["n"] or 0) + 1
    author = f"label model v{number}" if chosen == LABEL_MODEL else "majority vote"
    fit = LabelModelFit.objects.create(
        project=project,
        application=application,
        run=run,
        number=number,
        chosen=chosen,
        author=author,
        dev_size=dev_size,
        majority_vote_accuracy=accuracies.get("majority_vote"),
        label_model_accuracy=accuracies.get(LABEL_MODEL),
    )
    covered = ~np.isnan(probabilities).any(axis=1)
    chosen_index = predictions(probabilities)
    confidence = np.where(covered, np.nan_to_num(probabilities).max(axis=1), 0.0)
    weak = {
        int(pk): (application.labels[int(k)], float(c))
        for pk, k, c, ok in zip(ids, chosen_index, confidence, covered, strict=True)
        if ok
    }
    fit.labels_written = labels_replace_for_origin(
        project=project,
        origin=LabelOrigin.LABELING_FUNCTION,
        labels=weak,
        author=author,
        meta={"fit": fit.pk, "application": fit.application_id, "model": fit.chosen},
    )
    fit.low_confidence = sum(c < LOW_CONFIDENCE for _, c in weak.values())
    fit.save(update_fields=["labels_written", "low_confidence"])
    audit_record(  # one event for the whole batch (the labels service audits one by one)
        project=project,
        actor=(run.created_by if run is not None else None) or author,
        action="weak_labels.replace",
        target=fit,
        after={"labels_written": fit.labels_written, "chosen": chosen, "accuracies": accuracies},
        message=f"{fit.labels_written} weak labels from {author}",
    )
    return fit


def label_model_fit_start(*, project: Project, created_by=None):
    """Queue an apply-and-fit run (``label_model_fit``, one at a time per project)."""
    return run_enqueue(
        kind="label_model_fit", target=project, project=project, created_by=created_by
    )


def label_model_fit_run_handler(run, progress) -> dict:
    from curation.weak_supervision.services.application import lf_apply

    application = lf_apply(project=run.target, progress=_Scaled(progress, 0, 50), run=run)
    fit = label_model_fit(application=application, progress=_Scaled(progress, 50, 100), run=run)
    progress.update(100, f"{fit.labels_written:,} weak labels from {fit.author}")
    return {
        "fit": fit.number,
        "chosen": fit.chosen,
        "majority_vote_dev_accuracy": fit.majority_vote_accuracy,
        "label_model_dev_accuracy": fit.label_model_accuracy,
        "dev_examples": fit.dev_size,
        "weak_labels_written": fit.labels_written,
        "low_confidence": fit.low_confidence,
    }


class _Scaled:
    """Maps a sub-step's 0–100 onto a slice of the run's progress bar."""

    def __init__(self, progress: Progress, low: float, high: float) -> None:
        self.progress, self.low, self.high = progress, low, high

    def update(self, percent: float, message: str = "") -> None:
        self.progress.update(self.low + (self.high - self.low) * percent / 100, message)

    def log(self, line: str) -> None:
        self.progress.log(line)
