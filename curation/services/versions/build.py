"""Building a dataset version: select, split, freeze, hash."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet

from curation.core.hashing import combined_hash, content_hash, row_hash
from curation.core.splitting import (
    DEFAULT_RATIOS,
    SPLITS,
    SplitItem,
    assign_splits,
    merge_pins,
    prompt_group,
)
from curation.exceptions import AssayError
from curation.models import (
    DatasetVersion,
    DatasetVersionMember,
    DatasetVersionRemoval,
    Example,
    ExampleSource,
    Project,
    ReviewStatus,
    Run,
)
from curation.models import VersionStatus as Status
from curation.services.audit import audit_record
from curation.services.rows import RowInserter
from curation.services.runs import Progress, SilentProgress, run_enqueue
from curation.services.versions.attestation import attestation_record

HASH_ALGORITHM = "sha256"
REJECT_LABEL = "reject"
MEMBER_BATCH = 2000
# A delta version reads its parent's chain on every query; past this depth a build stores
# a full copy again, so no version is ever more than this many hops from its rows.
MAX_DELTA_CHAIN = 16
# What a member's row hash covers: everything frozen about it.
FROZEN_COLUMNS = (
    "external_id",
    "fields",
    "label",
    "label_origin",
    "source",
    "split",
    "content_hash",
)


def version_eligible_examples(project: Project) -> QuerySet[Example]:
    """The examples a new version of ``project`` takes: for classification those whose
    resolved label is in the project's label set (so unlabelled ones are left out), for
    generation every example not resolved as ``"reject"``. A synthetic example is taken
    only once a person accepted it, and no example a reviewer rejected is ever taken.
    The one place this rule lives."""
    examples = (
        Example.objects.filter(project=project)
        .exclude(Q(source=ExampleSource.SYNTHETIC) & ~Q(review_status=ReviewStatus.ACCEPTED))
        .exclude(review_status__in=(ReviewStatus.PENDING, ReviewStatus.REJECTED))
    )
    if project.is_classification:
        return examples.filter(resolved_label__in=list(project.label_set))
    return examples.exclude(resolved_label=REJECT_LABEL)


def member_row_hash(values: Mapping[str, Any]) -> str:
    """The hash of one frozen member over every column it freezes."""
    return row_hash({column: values[column] for column in FROZEN_COLUMNS})


def version_hash(rows: Iterable[tuple[str, str, str]]) -> str:
    """The version's hash from (split, external_id, row_hash) triples, sorted in Python so
    the result never depends on a database's collation."""
    return combined_hash(row for _, _, row in sorted(rows))


@dataclass(frozen=True)
class _Candidate:
    external_id: str
    label: str
    label_origin: str
    source: str


def _clean_ratios(ratios: Mapping[str, float] | None) -> dict[str, float]:
    ratios = dict(DEFAULT_RATIOS if ratios is None else ratios)
    if set(ratios) != set(SPLITS):
        raise AssayError(f"Split ratios need exactly {', '.join(SPLITS)}; got {', '.join(ratios)}.")
    try:
        cleaned = {split: float(ratios[split]) for split in SPLITS}
    except (TypeError, ValueError) as exc:
        raise AssayError(f"Split ratios must be numbers; got {ratios}.") from exc
    if any(value < 0 for value in cleaned.values()) or not sum(cleaned.values()) > 0:
        raise AssayError(f"Split ratios must be non-negative and not all zero; got {ratios}.")
    return cleaned


def _no_examples_message(project: Project) -> str:
    if project.is_classification:
        return (
            f"Project '{project.name}' has no labelled examples to version: an example needs "
            f"a resolved label from the label set ({', '.join(project.label_set) or 'empty'})."
        )
    return (
        f"Project '{project.name}' has no examples to version: it has none, or every one "
        f"is labelled '{REJECT_LABEL}'."
    )


def _latest_approved(project: Project) -> DatasetVersion | None:
    return project.versions.filter(status=Status.APPROVED).order_by("-number").first()


def _pinned_splits(parent: DatasetVersion | None) -> dict[str, str]:
    """Split group → the split it had in the parent (see `_candidates` for the groups)."""
    if parent is None:
        return {}
    if parent.project.is_classification:
        rows = parent.members.values_list("content_hash", "split")
        return merge_pins(rows.iterator(chunk_size=MEMBER_BATCH))
    rows = parent.members.values_list("fields", "split")
    return merge_pins(
        (prompt_group(fields), split) for fields, split in rows.iterator(chunk_size=MEMBER_BATCH)
    )


def _candidates(
    project: Project, *, seed: int = 0
) -> tuple[dict[int, _Candidate], list[SplitItem], int]:
    """First pass: who is in, and how to split them. Also returns how many accepted
    synthetic examples the project's cap left out.

    Classification examples are grouped by content hash and stratified by label (without
    reading the fields); generation examples are grouped by prompt, so every reference
    for one prompt lands in the same split.
    """
    candidates: dict[int, _Candidate] = {}
    groups: dict[int, str] = {}
    columns = ["id", "external_id", "content_hash", "resolved_label", "resolved_label_origin"]
    by_prompt = not project.is_classification
    rows = version_eligible_examples(project).values_list(
        *columns, "source", *(["fields"] if by_prompt else [])
    )
    for pk, external_id, group, label, origin, source, *fields in rows.iterator(
        chunk_size=MEMBER_BATCH
    ):
        candidates[pk] = _Candidate(external_id, label, origin, source)
        groups[pk] = prompt_group(fields[0]) if by_prompt else group
    capped = synthetic_over_cap(candidates, cap=project.synthetic_share_cap, seed=seed)
    for pk in capped:
        del candidates[pk]
    items = [
        SplitItem(key=pk, group=groups[pk], stratum=None if by_prompt else candidate.label)
        for pk, candidate in candidates.items()
    ]
    return candidates, items, len(capped)


def synthetic_over_cap(candidates: Mapping[int, _Candidate], *, cap: float, seed: int) -> list:
    """The synthetic candidates to leave out so that at most ``cap`` of the version is
    synthetic; which ones is decided by a seeded hash of their ids (reproducible)."""
    synthetic = [pk for pk, c in candidates.items() if c.source == ExampleSource.SYNTHETIC]
    real = len(candidates) - len(synthetic)
    allowed = int(cap * real / (1 - cap)) if cap < 1 else len(synthetic)
    if len(synthetic) <= allowed:
        return []
    ranked = sorted(
        synthetic,
        key=lambda pk: content_hash({"seed": str(seed), "id": candidates[pk].external_id}),
    )
    return ranked[allowed:]


@dataclass
class _Tally:
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    splits: Counter = field(default_factory=Counter)
    labels: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    sources: Counter = field(default_factory=Counter)
    stored: int = 0
    removed: int = 0

    def add(self, member: dict[str, Any]) -> None:
        self.rows.append((member["split"], member["external_id"], member["row_hash"]))
        self.splits[member["split"]] += 1
        self.labels[member["split"]][member["label"]] += 1
        self.sources[member["source"]] += 1


def _freeze_member(version, pk, fields, candidate: _Candidate, split: str) -> dict[str, Any]:
    member = {
        "version": version.pk,
        "example": pk,
        "external_id": candidate.external_id,
        "fields": fields,
        "label": candidate.label,
        "label_origin": candidate.label_origin,
        "source": candidate.source,
        "split": split,
        "content_hash": content_hash(fields),
    }
    member["row_hash"] = member_row_hash(member)
    return member


def _stores_delta(parent: DatasetVersion | None) -> bool:
    """Whether the new version stores a delta on ``parent``: it has one, and the parent's
    chain is shorter than `MAX_DELTA_CHAIN` (else it stores a full copy)."""
    return parent is not None and len(parent.storage_chain) < MAX_DELTA_CHAIN


def _parent_rows(parent: DatasetVersion) -> dict[int, tuple[int, str]]:
    """The parent's members by example, as (member id, row hash)."""
    rows = parent.members.order_by().values_list("example_id", "pk", "row_hash")
    return {example: (pk, row) for example, pk, row in rows.iterator(chunk_size=MEMBER_BATCH)}


def _freeze_members(
    version, candidates, assignment, progress: Progress, base: Mapping[int, tuple[int, str]]
) -> _Tally:
    """Second pass: freeze each chosen example's content, in batches (plain-row INSERTs:
    building a model instance per member was half the build's time). A member whose row
    hash equals its row in ``base`` (the parent's rows of a delta; empty for a full copy)
    is shared, not stored again; each row of ``base`` not shared gets a removal."""
    tally, batch, total = _Tally(), [], len(candidates)
    inserter = RowInserter(DatasetVersionMember)
    kept: set[int] = set()
    rows = version_eligible_examples(version.project).values_list("id", "fields").order_by("id")
    for pk, fields in rows.iterator(chunk_size=MEMBER_BATCH):
        if pk not in candidates:
            continue
        member = _freeze_member(version, pk, fields, candidates[pk], assignment[pk])
        parent_row = base.get(pk)
        if parent_row is not None and parent_row[1] == member["row_hash"]:
            kept.add(parent_row[0])
            tally.add(member)
        else:
            batch.append(member)
        if len(batch) >= MEMBER_BATCH:
            _write_batch(inserter, batch, tally, total, progress)
            batch = []
    _write_batch(inserter, batch, tally, total, progress)
    tally.removed = _write_removals(version, [pk for pk, _ in base.values() if pk not in kept])
    return tally


def _write_batch(inserter, batch, tally: _Tally, total: int, progress: Progress) -> None:
    inserter.insert(batch)
    for member in batch:
        tally.add(member)
    tally.stored += len(batch)
    done = len(tally.rows)
    progress.update(10 + 85 * done / max(total, 1), f"Froze {done} of {total} examples")


def _write_removals(version: DatasetVersion, member_ids: list[int]) -> int:
    inserter = RowInserter(DatasetVersionRemoval)
    for start in range(0, len(member_ids), MEMBER_BATCH):
        chunk = member_ids[start : start + MEMBER_BATCH]
        inserter.insert([{"version": version.pk, "member": member_id} for member_id in chunk])
    return len(member_ids)


def _manifest(project, tally: _Tally, *, seed, ratios, parent) -> dict:
    return {
        "hash_algorithm": HASH_ALGORITHM,
        "task_type": project.task_type,
        "fields": project.content_fields,
        "labels": list(project.label_set) if project.is_classification else [],
        "member_count": len(tally.rows),
        "split_counts": {split: tally.splits[split] for split in SPLITS},
        "label_distribution": {
            split: dict(sorted(tally.labels[split].items())) for split in SPLITS
        },
        "sources": dict(sorted(tally.sources.items())),
        "seed": seed,
        "ratios": ratios,
        "parent": parent.number if parent else None,
    }


@transaction.atomic
def dataset_version_build(
    *,
    project: Project,
    seed: int = 0,
    ratios: Mapping[str, float] | None = None,
    note: str = "",
    created_by=None,
    progress: Progress | None = None,
) -> DatasetVersion:
    """Freeze the project's eligible examples (`version_eligible_examples`) into a new
    draft version, split train/validation/test.

    Splits are seeded and stratified by label, and grouped by content hash so duplicates
    never cross splits (by prompt, for generation, so no prompt is both trained and tested
    on). A group already in the latest approved version keeps the split it had there, so
    nothing tested on before is trained on later.
    """
    progress = progress or SilentProgress()
    ratios = _clean_ratios(ratios)
    # Lock the project row: two builds at once would otherwise pick the same number.
    project = Project.objects.select_for_update().get(pk=project.pk)
    progress.update(1, "Selecting examples")
    candidates, items, capped = _candidates(project, seed=seed)
    if not candidates:
        raise AssayError(_no_examples_message(project))
    parent = _latest_approved(project)
    assignment = assign_splits(items, seed=seed, ratios=ratios, pinned=_pinned_splits(parent))
    progress.update(10, f"Split {len(candidates)} examples")
    number = (project.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    delta = _stores_delta(parent)
    base = _parent_rows(parent) if delta and parent is not None else {}
    version = DatasetVersion.objects.create(
        stores_delta=delta,
        project=project,
        number=number,
        parent=parent,
        seed=seed,
        split_ratios=ratios,
        content_hash="",
        note=note,
        created_by=created_by,
    )
    tally = _freeze_members(version, candidates, assignment, progress, base)
    version.content_hash = version_hash(tally.rows)
    version.manifest = _manifest(project, tally, seed=seed, ratios=ratios, parent=parent)
    version.manifest["synthetic_left_out_by_cap"] = capped
    version.manifest["storage"] = {
        "delta_of": parent.number if version.stores_delta else None,
        "stored_rows": tally.stored,
        "removed_rows": tally.removed,
    }
    version.save(update_fields=["content_hash", "manifest"])
    if capped:
        progress.log(f"Left out {capped} synthetic examples: the project caps them at "
                     f"{project.synthetic_share_cap:.0%} of a version.")  # fmt: skip
    audit_record(
        project=project,
        actor=created_by,
        action="version.build",
        target=version,
        after={
            "number": number,
            "members": len(tally.rows),
            "hash": version.content_hash,
            **attestation_record(version),
        },
        message=f"Built version {number} ({len(tally.rows)} examples)",
    )
    progress.log(f"Built version {number}: {len(tally.rows)} members, hash {version.content_hash}")
    return version


def version_build_start(*, project: Project, seed: int = 0, note: str = "", created_by=None) -> Run:
    """Queue a version build for the worker (one at a time per project)."""
    return run_enqueue(
        kind="version_build",
        target=project,
        project=project,
        params={"seed": seed, "note": note},
        created_by=created_by,
    )


def version_build_run_handler(run: Run, progress: Progress) -> dict:
    """Build the version and its readiness report in one transaction: a worker killed (or
    a run cancelled) between the two must not leave a version without its report."""
    from curation.services.readiness import version_readiness_refresh

    with transaction.atomic():
        version = dataset_version_build(
            project=run.target,
            seed=int(run.params.get("seed", 0)),
            ratios=run.params.get("ratios"),
            note=run.params.get("note", ""),
            created_by=run.created_by,
            progress=progress,
        )
        progress.update(98, "Computing the readiness report")
        version = version_readiness_refresh(version=version)
    progress.update(100, f"Built version {version.number}")
    return {
        "readiness": version.readiness.get("status", ""),
        "version_id": version.pk,
        "number": version.number,
        "content_hash": version.content_hash,
        "member_count": version.manifest["member_count"],
        "split_counts": version.manifest["split_counts"],
    }
