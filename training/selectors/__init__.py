"""Reads for the training pages and API: run lists, the comparison table, and curves."""

from django.db.models import QuerySet

from curation.models import Project
from training.models import TrainingRun

CHART_WIDTH, CHART_HEIGHT, PAD = 320, 140, 6
CURVE_METRICS = {
    "classification": ("accuracy", "macro_f1", "auc_roc"),
    "generation": ("rouge_l", "bleu"),
}


def training_runs_for_project(project: Project) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.filter(project=project).select_related(
        "run", "version", "created_by"
    )


def _polyline(points: list[tuple[float, float]], x_max: float, y_min: float, y_max: float):
    span = (y_max - y_min) or 1.0
    coordinates = [
        (
            PAD + (CHART_WIDTH - 2 * PAD) * x / (x_max or 1),
            CHART_HEIGHT - PAD - (CHART_HEIGHT - 2 * PAD) * (y - y_min) / span,
        )
        for x, y in points
    ]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)


def _chart(title: str, series: dict[str, list[tuple[float, float]]]) -> dict | None:
    series = {name: points for name, points in series.items() if points}
    if not series:
        return None
    values = [y for points in series.values() for _, y in points]
    x_max = max(x for points in series.values() for x, _ in points)
    y_min, y_max = min(values), max(values)
    return {
        "title": title,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "x_max": int(x_max),
        "y_min": y_min,
        "y_max": y_max,
        "series": [
            {"name": name, "index": i, "points": _polyline(points, x_max, y_min, y_max)}
            for i, (name, points) in enumerate(series.items())
        ],
    }


def training_run_curves(training_run: TrainingRun) -> list[dict]:
    """SVG-ready charts: training and validation loss, and the validation metrics."""
    history = training_run.history or {}
    train, validation = history.get("train", []), history.get("validation", [])

    def points(records, key):
        return [(r["step"], r[key]) for r in records if r.get(key) is not None]

    charts = [
        _chart("Loss", {"train": points(train, "loss"), "validation": points(validation, "loss")}),
        _chart(
            "Validation metrics",
            {name: points(validation, name) for name in CURVE_METRICS[training_run.task_type]},
        ),
    ]
    return [chart for chart in charts if chart]


def comparison_rows(training_run: TrainingRun) -> list[dict]:
    """One row per system (fine-tuned, base, baseline) with its metrics and intervals."""
    comparison = training_run.comparison or {}
    systems = comparison.get("systems") or {}
    # PostgreSQL's jsonb keeps keys in its own order: put the systems in the page's order.
    order = {"fine_tuned": 0, "base": 1, "baseline": 2}
    rows = []
    for key, system in sorted(systems.items(), key=lambda item: order.get(item[0], 3)):
        scores = system["metrics"]
        rows.append(
            {
                "name": system.get("name", key.replace("_", " ")),
                "metrics": {k: v for k, v in scores.items() if not k.endswith("_ci")},
                "intervals": {k[:-3]: v for k, v in scores.items() if k.endswith("_ci")},
            }
        )
    return rows


def model_comparison(project: Project) -> list[dict]:
    """The model list: each finished run's headline numbers side by side."""
    rows = []
    for training_run in training_runs_for_project(project):
        comparison = training_run.comparison or {}
        tuned = (comparison.get("systems") or {}).get("fine_tuned", {}).get("metrics", {})
        base = (comparison.get("systems") or {}).get("base", {}).get("metrics", {})
        primary = comparison.get("primary_metric", "")
        rows.append(
            {
                "run": training_run,
                "primary": primary,
                "tuned": tuned.get(primary),
                "base": base.get(primary),
                "interval": tuned.get(f"{primary}_ci"),
                "forgetting": (training_run.forgetting or {}).get("change_percent"),
            }
        )
    return rows
