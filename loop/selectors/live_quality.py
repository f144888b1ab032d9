"""Live quality per deployment and ISO week, from the labelled live-quality items:
accuracy and macro-F1 (classification) or ROUGE-L ×100 (generation), each with its 95%
bootstrap interval and ``n`` (labelled answers), beside how many were sampled."""

from curation.models import Project
from loop.core.live_quality import classification_quality, generation_quality
from loop.models import LiveQualityItem
from serving.models import Deployment


def primary_metric(task_type: str) -> str:
    return "accuracy" if task_type == "classification" else "rouge_l"


def live_quality_weeks(deployment: Deployment) -> list[dict]:
    """One row per ISO week with sampled items, oldest first: ``week``, ``sampled``,
    ``n``, ``variants`` and the metrics (``{"value", "low", "high"}``, None without
    labels)."""
    weeks: dict[str, list] = {}
    rows = LiveQualityItem.objects.filter(deployment=deployment).order_by("week", "id")
    for week, variant, output, gold, labelled_at in rows.values_list(
        "week", "variant", "output", "gold", "labelled_at"
    ):
        weeks.setdefault(week, []).append((variant, output, gold, labelled_at is not None))
    result = []
    for week, items in weeks.items():
        labelled = [(output, gold) for _v, output, gold, done in items if done]
        outputs = [output for output, _ in labelled]
        if deployment.task_type == "classification":
            metrics = classification_quality(outputs, [gold for _, gold in labelled])
        else:
            metrics = generation_quality(outputs, [gold or None for _, gold in labelled])
        result.append({"week": week, "sampled": len(items),
                       "variants": sorted({v for v, *_ in items}), **metrics})  # fmt: skip
    return result


def live_quality_for_project(project: Project) -> list[dict]:
    """Per deployment with a sample (newest first): its metric name and weekly rows."""
    deployments = Deployment.objects.filter(project=project, live_quality_items__isnull=False)
    return [
        {"deployment": d, "metric": primary_metric(d.task_type), "weeks": live_quality_weeks(d)}
        for d in deployments.distinct().order_by("-created_at")
    ]
