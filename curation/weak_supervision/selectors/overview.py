"""Everything the weak-supervision page shows, in one read: LFs with their latest
numbers, the coverage chart, the conflict matrix and the label-model comparison."""

from curation.models import Project
from curation.weak_supervision.selectors.applications import latest_application, project_fits
from curation.weak_supervision.selectors.functions import (
    project_labeling_functions,
    project_vote_labels,
)


def _conflict_cells(names: list[str], matrix: list[list[float]]) -> list[dict]:
    largest = max((value for row in matrix for value in row), default=0.0) or 1.0
    return [
        {
            "name": name,
            "cells": [
                {"value": value, "shade": round(value / largest, 3), "diagonal": i == j}
                for j, value in enumerate(row)
            ],
        }
        for i, (name, row) in enumerate(zip(names, matrix, strict=True))
    ]


def weak_supervision_overview(project: Project) -> dict:
    application = latest_application(project)
    lfs = project_labeling_functions(project)
    stats, names, conflicts = {}, [], []
    labels = project_vote_labels(project)
    if application is not None:
        analysis = application.analysis
        names = analysis.get("names", [])
        for name, row in zip(names, analysis["lfs"], strict=True):
            polarity = [application.labels[i] for i in row["polarity"]]
            stats[name] = {**row, "polarity_names": polarity}
        conflicts = _conflict_cells(names, analysis["conflict_matrix"])
    for lf in lfs:
        lf.stats = stats.get(lf.name) if lf.is_active else None
    coverage_bars = [
        {
            "name": name,
            "count": stats[name]["votes"],
            "percent": round(100 * stats[name]["coverage"], 1),
            "width": round(100 * stats[name]["coverage"], 1),
        }
        for name in names
    ]
    return {
        "lfs": lfs,
        "labels": labels,
        "application": application,
        "coverage_bars": coverage_bars,
        "conflict_rows": conflicts,
        "conflict_names": names,
        "fits": list(project_fits(project)),
    }
