"""Example selectors: the filtered example list the browser and the API page through,
and the per-project counts shown on the project pages."""

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from curation.models import Example, Project
from curation.permissions import projects_visible_to


def examples_filter(
    *,
    project: Project,
    source: str | None = None,
    label: str | None = None,
    version=None,
    split: str | None = None,
    search: str | None = None,
    review: str | None = None,
    external_ids: list[str] | None = None,
) -> QuerySet[Example]:
    """A project's examples narrowed by every filter given (empty values are ignored).

    ``split`` needs ``version``: an example's split exists only within a version.
    ``search`` matches case-insensitively inside any content field's value. Each field is
    extracted as text (``->>`` on PostgreSQL, ``JSON_EXTRACT`` on SQLite) rather than
    searching the JSON document, so field names and JSON escapes never match.
    """
    examples = Example.objects.filter(project=project)
    if source:
        examples = examples.filter(source=source)
    if label:
        examples = examples.filter(resolved_label=label)
    if version is not None:
        members = version.members.filter(split=split) if split else version.members
        examples = examples.filter(pk__in=members.order_by().values("example_id"))
    if review:
        examples = examples.filter(review_status=review)
    if external_ids:
        examples = examples.filter(external_id__in=external_ids)
    if search:
        examples = _search(examples, project.content_fields, search)
    return examples.order_by("id")


def _search(examples: QuerySet[Example], field_names: list[str], term: str) -> QuerySet[Example]:
    aliases = {
        f"search_{i}": KeyTextTransform(name, "fields") for i, name in enumerate(field_names)
    }
    matches = Q()
    for alias in aliases:
        matches |= Q(**{f"{alias}__icontains": term})
    return examples.alias(**aliases).filter(matches)


def example_counts(*, project: Project) -> dict:
    """Total examples, and counts by source and by resolved label ("" = unlabelled),
    largest first."""
    examples = Example.objects.filter(project=project)
    by_source = examples.values("source").annotate(n=Count("id")).order_by("-n", "source")
    by_label = (
        examples.values("resolved_label").annotate(n=Count("id")).order_by("-n", "resolved_label")
    )
    return {
        "total": examples.count(),
        "by_source": {row["source"]: row["n"] for row in by_source},
        "by_label": {row["resolved_label"]: row["n"] for row in by_label},
    }


def projects_with_counts(*, user) -> QuerySet[Project]:
    """The projects ``user`` may see, with ``example_count`` and ``version_count``
    annotated (`curation.permissions.projects_visible_to`)."""
    visible = projects_visible_to(user).values("pk")
    return (
        Project.objects.filter(pk__in=visible)
        .annotate(
            example_count=Count("examples", distinct=True),
            version_count=Count("versions", distinct=True),
            approved_count=Count("versions", filter=Q(versions__status="approved"), distinct=True),
        )
        .order_by("name")
    )
