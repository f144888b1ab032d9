"""Generating synthetic examples from seed examples, and flagging near duplicates."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet

from curation.core.hashing import content_hash
from curation.core.synthetic import METHODS, near_duplicates, variants
from curation.exceptions import AssayError
from curation.models import Example, ExampleSource, LabelOrigin, Project, ReviewStatus, Run
from curation.services.audit import audit_record
from curation.services.labels import label_add
from curation.services.runs import Progress, SilentProgress, run_enqueue

from .endpoint import configured_endpoint, endpoint_paraphrase

BUILT_IN_GENERATOR = "assay-augment"
MAX_PER_EXAMPLE = 10


def _check_request(project: Project, seeds: Sequence[Example], per_example: int, methods):
    if not seeds:
        raise AssayError("Choose at least one seed example to generate from.")
    if not 1 <= per_example <= MAX_PER_EXAMPLE:
        raise AssayError(f"Examples per seed must be between 1 and {MAX_PER_EXAMPLE}.")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or not methods:
        raise AssayError(f"Unknown augmentation methods {unknown}; choose from {METHODS}.")
    foreign = [seed.external_id for seed in seeds if seed.project_id != project.pk]
    if foreign:
        raise AssayError(f"Seed examples {', '.join(foreign[:5])} belong to another project.")


def _texts(seed: Example, field: str, *, per_example, methods, seed_value, endpoint):
    text = seed.fields[field]
    if endpoint is None:
        return variants(text, methods=methods, count=per_example, seed=seed_value)
    out = []
    for i in range(per_example):
        out.append(("paraphrase", endpoint_paraphrase(endpoint, text, seed=seed_value + i)))
    return out


@transaction.atomic
def synthetic_generate(
    *,
    project: Project,
    seeds: Sequence[Example],
    per_example: int = 1,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    use_endpoint: bool = False,
    actor=None,
    progress: Progress | None = None,
) -> list[Example]:
    """Make ``per_example`` variants of each seed example's first content field; they are
    synthetic, pending review, and keep their parent's label as a model label. With
    ``use_endpoint`` the configured OpenAI-compatible endpoint paraphrases instead."""
    progress = progress or SilentProgress()
    _check_request(project, seeds, per_example, methods)
    endpoint = configured_endpoint() if use_endpoint else None
    if use_endpoint and endpoint is None:
        raise AssayError("No synthetic-data endpoint is configured (ASSAY_SYNTHETIC_ENDPOINT).")
    generator = f"openai-compatible:{endpoint.model}" if endpoint else BUILT_IN_GENERATOR
    field = project.content_fields[0]
    taken = set(Example.objects.filter(project=project).values_list("external_id", flat=True))
    created: list[Example] = []
    for n, parent in enumerate(seeds, 1):
        made = _texts(parent, field, per_example=per_example, methods=methods,
                      seed_value=seed, endpoint=endpoint)  # fmt: skip
        for index, (method, text) in enumerate(made):
            external_id = f"syn:{parent.external_id}:{seed}:{index}"
            if external_id in taken:
                continue
            created.append(_create(parent, field, text, external_id, generator, method, seed))
        progress.update(90 * n / len(seeds), f"{len(created)} synthetic examples")
    flagged = synthetic_near_duplicates_flag(project=project, examples=created)
    audit_record(
        project=project,
        actor=actor,
        action="synthetic.generate",
        target=project,
        after={"created": len(created), "near_duplicates": flagged, "generator": generator},
        message=f"Generated {len(created)} synthetic examples from {len(seeds)} seeds",
    )
    return created


def _create(parent: Example, field: str, text: str, external_id, generator, method, seed):
    fields = {**parent.fields, field: text}
    example = Example.objects.create(
        project=parent.project,
        external_id=external_id,
        fields=fields,
        content_hash=content_hash(fields),
        source=ExampleSource.SYNTHETIC,
        review_status=ReviewStatus.PENDING,
        provenance={
            "generator": generator,
            "method": method,
            "seed": seed,
            "parent": parent.external_id,
        },
    )
    if parent.resolved_label:
        label_add(
            example=example,
            value=parent.resolved_label,
            origin=LabelOrigin.MODEL,
            author=generator,
            audit=False,
        )
    return example


def synthetic_near_duplicates_flag(*, project: Project, examples=None) -> int:
    """Mark synthetic examples (``examples``, default: all of the project's not yet
    checked) that nearly duplicate a real example; returns how many were flagged."""
    field = project.content_fields[0]
    if examples is None:
        examples = Example.objects.filter(
            project=project, source=ExampleSource.SYNTHETIC, near_duplicate_score__isnull=True
        )
    texts = {example.pk: example.fields.get(field, "") for example in examples}
    if not texts:
        return 0
    real = Example.objects.filter(project=project).exclude(source=ExampleSource.SYNTHETIC)
    references = dict(real.values_list("pk", f"fields__{field}").iterator(chunk_size=5000))
    found = near_duplicates(texts, references)
    for pk in texts:
        match = found.get(pk)
        Example.objects.filter(pk=pk).update(
            near_duplicate_of_id=match[0] if match else None,
            near_duplicate_score=round(match[1], 4) if match else 0.0,
        )
    return len(found)


def seed_examples(*, project: Project, label: str = "", limit: int = 20) -> QuerySet[Example]:
    """Real examples to generate from: the first ``limit`` (optionally of one label)."""
    seeds = Example.objects.filter(project=project).exclude(source=ExampleSource.SYNTHETIC)
    if label:
        seeds = seeds.filter(resolved_label=label)
    return seeds.order_by("id")[:limit]


def synthetic_generate_start(
    *, project: Project, label: str = "", limit: int = 20, per_example: int = 1,
    methods: Sequence[str] = METHODS, seed: int = 0, use_endpoint: bool = False, created_by=None,
) -> Run:  # fmt: skip
    """Queue a generation run (one at a time per project)."""
    return run_enqueue(
        kind="synthetic_generate",
        target=project,
        project=project,
        params={
            "label": label,
            "limit": limit,
            "per_example": per_example,
            "methods": list(methods),
            "seed": seed,
            "use_endpoint": use_endpoint,
        },  # fmt: skip
        created_by=created_by,
    )


def synthetic_generate_run_handler(run: Run, progress: Progress) -> dict:
    params = run.params
    project = run.target
    seeds = list(seed_examples(project=project, label=params["label"], limit=params["limit"]))
    created = synthetic_generate(
        project=project,
        seeds=seeds,
        per_example=params["per_example"],
        methods=params["methods"],
        seed=params["seed"],
        use_endpoint=params["use_endpoint"],
        actor=run.created_by,
        progress=progress,
    )
    flagged = Example.objects.filter(
        pk__in=[example.pk for example in created], near_duplicate_of__isnull=False
    ).count()
    progress.update(100, f"Generated {len(created)} synthetic examples")
    return {"created": len(created), "seeds": len(seeds), "near_duplicates": flagged}
