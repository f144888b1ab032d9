"""Dataset version selectors: a project's versions and what is in each."""

from django.db.models import Count, QuerySet

from curation.core.splitting import SPLITS
from curation.models import DatasetVersion, Project


def project_versions(project: Project) -> QuerySet[DatasetVersion]:
    """The project's versions, newest first, with the people and parent a list shows."""
    return (
        DatasetVersion.objects.filter(project=project)
        .select_related("created_by", "reviewed_by", "parent")
        .order_by("-number")
    )


def version_split_counts(version: DatasetVersion) -> dict[str, int]:
    """Members per split, counted from the stored rows, every split present."""
    counts = dict.fromkeys(SPLITS, 0)
    rows = version.members.order_by().values("split").annotate(n=Count("id"))
    counts.update({row["split"]: row["n"] for row in rows})
    return counts


def version_label_distribution(version: DatasetVersion) -> dict[str, dict[str, int]]:
    """Members per label within each split, labels sorted, every split present."""
    distribution: dict[str, dict[str, int]] = {split: {} for split in SPLITS}
    rows = (
        version.members.order_by()
        .values("split", "label")
        .annotate(n=Count("id"))
        .order_by("split", "label")
    )
    for row in rows:
        distribution[row["split"]][row["label"]] = row["n"]
    return {split: dict(sorted(labels.items())) for split, labels in distribution.items()}
