"""Dataset versions: building a frozen, content-hashed snapshot of a project's curated
examples, reviewing it, and checking that nothing in it changed since.

Review workflow::

    draft ──submit──▶ in_review ──approve──▶ approved   (final, immutable)
      │                   │
      └──────reject───────┴──────reject───▶ rejected    (final)

A draft may be rejected straight away, so a build that is plainly wrong can be closed
without a pointless review round. Approval needs a submitted version (someone must have
asked for review) and a clean `dataset_version_verify`. Rejected versions stay rejected:
their members are frozen, so fixing the data means building a new version. Anything asked
of an approved version raises `VersionImmutable`; the database triggers of migration 0002
refuse too. Roles come later: for now any signed-in user may review, including the builder.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from curation.core.hashing import combined_hash, content_hash, row_hash
from curation.core.splitting import DEFAULT_RATIOS, SPLITS, SplitItem, assign_splits
from curation.exceptions import AssayError, InvalidTransition, VersionImmutable
from curation.models import DatasetVersion, DatasetVersionMember, Example, Project, Run
from curation.models import VersionStatus as Status
from curation.services.runs import Progress, run_enqueue

HASH_ALGORITHM = "sha256"
REJECT_LABEL = "reject"
MEMBER_BATCH = 2000
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


class SilentProgress:
    """Progress that goes nowhere, for calls made without a run."""

    def update(self, percent: float, message: str = "") -> None:
        pass

    def log(self, line: str) -> None:
        pass


def version_eligible_examples(project: Project) -> QuerySet[Example]:
    """The examples a new version of ``project`` takes: for classification those whose
    resolved label is in the project's label set (so unlabelled ones are left out), for
    generation every example not resolved as ``"reject"``. The one place this rule lives."""
    examples = Example.objects.filter(project=project)
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
    if parent is None:
        return {}
    rows = parent.members.values_list("content_hash", "split").iterator(chunk_size=MEMBER_BATCH)
    return dict(rows)


def _candidates(project: Project) -> tuple[dict[int, _Candidate], list[SplitItem]]:
    """First pass, without the (large) fields: who is in, and how to split them."""
    candidates: dict[int, _Candidate] = {}
    items: list[SplitItem] = []
    rows = version_eligible_examples(project).values_list(
        "id", "external_id", "content_hash", "resolved_label", "resolved_label_origin", "source"
    )
    for pk, external_id, group, label, origin, source in rows.iterator(chunk_size=MEMBER_BATCH):
        candidates[pk] = _Candidate(external_id, label, origin, source)
        stratum = label if project.is_classification else None
        items.append(SplitItem(key=pk, group=group, stratum=stratum))
    return candidates, items


@dataclass
class _Tally:
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    splits: Counter = field(default_factory=Counter)
    labels: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    sources: Counter = field(default_factory=Counter)

    def add(self, member: DatasetVersionMember) -> None:
        self.rows.append((member.split, member.external_id, member.row_hash))
        self.splits[member.split] += 1
        self.labels[member.split][member.label] += 1
        self.sources[member.source] += 1


def _freeze_member(version, pk, fields, candidate: _Candidate, split: str):
    member = DatasetVersionMember(
        version=version,
        example_id=pk,
        external_id=candidate.external_id,
        fields=fields,
        label=candidate.label,
        label_origin=candidate.label_origin,
        source=candidate.source,
        split=split,
        content_hash=content_hash(fields),
    )
    member.row_hash = member_row_hash(vars(member))
    return member


def _freeze_members(version, candidates, assignment, progress: Progress) -> _Tally:
    """Second pass: copy each chosen example's content into a member row, in batches."""
    tally, batch, total = _Tally(), [], len(candidates)
    rows = version_eligible_examples(version.project).values_list("id", "fields").order_by("id")
    for pk, fields in rows.iterator(chunk_size=MEMBER_BATCH):
        if pk not in candidates:
            continue
        batch.append(_freeze_member(version, pk, fields, candidates[pk], assignment[pk]))
        if len(batch) >= MEMBER_BATCH:
            _write_batch(batch, tally, total, progress)
            batch = []
    _write_batch(batch, tally, total, progress)
    return tally


def _write_batch(batch, tally: _Tally, total: int, progress: Progress) -> None:
    DatasetVersionMember.objects.bulk_create(batch)
    for member in batch:
        tally.add(member)
    done = len(tally.rows)
    progress.update(10 + 85 * done / max(total, 1), f"Froze {done} of {total} examples")


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
    never cross splits. Content already in the latest approved version keeps the split it
    had there, so nothing tested on before is trained on later.
    """
    progress = progress or SilentProgress()
    ratios = _clean_ratios(ratios)
    # Lock the project row: two builds at once would otherwise pick the same number.
    project = Project.objects.select_for_update().get(pk=project.pk)
    progress.update(1, "Selecting examples")
    candidates, items = _candidates(project)
    if not candidates:
        raise AssayError(_no_examples_message(project))
    parent = _latest_approved(project)
    assignment = assign_splits(items, seed=seed, ratios=ratios, pinned=_pinned_splits(parent))
    progress.update(10, f"Split {len(candidates)} examples")
    number = (project.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = DatasetVersion.objects.create(
        project=project,
        number=number,
        parent=parent,
        seed=seed,
        split_ratios=ratios,
        content_hash="",
        note=note,
        created_by=created_by,
    )
    tally = _freeze_members(version, candidates, assignment, progress)
    version.content_hash = version_hash(tally.rows)
    version.manifest = _manifest(project, tally, seed=seed, ratios=ratios, parent=parent)
    version.save(update_fields=["content_hash", "manifest"])
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
    version = dataset_version_build(
        project=run.target,
        seed=int(run.params.get("seed", 0)),
        ratios=run.params.get("ratios"),
        note=run.params.get("note", ""),
        created_by=run.created_by,
        progress=progress,
    )
    progress.update(100, f"Built version {version.number}")
    return {
        "version_id": version.pk,
        "number": version.number,
        "content_hash": version.content_hash,
        "member_count": version.manifest["member_count"],
        "split_counts": version.manifest["split_counts"],
    }


# --- review ----------------------------------------------------------------------------

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "submit": ((Status.DRAFT,), Status.IN_REVIEW),
    "approve": ((Status.IN_REVIEW,), Status.APPROVED),
    "reject": ((Status.DRAFT, Status.IN_REVIEW), Status.REJECTED),
}


def _locked_for(version: DatasetVersion, action: str) -> DatasetVersion:
    """The version's row, locked and fresh, after checking ``action`` is allowed now."""
    version = (
        DatasetVersion.objects.select_for_update().select_related("project").get(pk=version.pk)
    )
    if version.is_approved:
        raise VersionImmutable(
            f"{version} is approved and immutable; it cannot be {_past(action)}."
        )
    allowed, _ = TRANSITIONS[action]
    if version.status not in allowed:
        raise InvalidTransition(
            f"{version} is {Status(version.status).label.lower()}; only "
            f"{' or '.join(Status(s).label.lower() for s in allowed)} versions can be "
            f"{_past(action)}."
        )
    return version


def _past(action: str) -> str:
    return {"submit": "submitted", "approve": "approved", "reject": "rejected"}[action]


def _require_reviewer(user) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise AssayError("Reviewing a dataset version needs a signed-in user.")


@transaction.atomic
def dataset_version_submit(*, version: DatasetVersion, user=None) -> DatasetVersion:
    """Ask for review of a draft."""
    version = _locked_for(version, "submit")
    version.status = TRANSITIONS["submit"][1]
    version.save(update_fields=["status"])
    return version


@transaction.atomic
def dataset_version_approve(*, version: DatasetVersion, user, comment: str = "") -> DatasetVersion:
    """Approve a version in review, once its members still match their hashes. From then
    on the version can never change. Any signed-in user may approve, for now."""
    _require_reviewer(user)
    version = _locked_for(version, "approve")
    check = dataset_version_verify(version=version)
    if not check.ok:
        raise AssayError(f"{version} cannot be approved: {' '.join(check.problems)}")
    return _record_review(version, "approve", user=user, comment=comment)


@transaction.atomic
def dataset_version_reject(*, version: DatasetVersion, user, comment: str) -> DatasetVersion:
    """Reject a draft or a version in review; the comment says what is wrong."""
    _require_reviewer(user)
    version = _locked_for(version, "reject")
    if not comment.strip():
        raise AssayError("Rejecting a dataset version needs a comment saying what is wrong.")
    return _record_review(version, "reject", user=user, comment=comment)


def _record_review(version: DatasetVersion, action: str, *, user, comment: str):
    version.status = TRANSITIONS[action][1]
    version.reviewed_by = user
    version.reviewed_at = timezone.now()
    version.review_comment = comment.strip()
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    return version


# --- verification ----------------------------------------------------------------------


@dataclass
class VersionVerification:
    """The result of re-hashing a version's members against what was frozen."""

    ok: bool
    expected_hash: str
    actual_hash: str
    tampered_rows: list[str]
    problems: list[str]


def dataset_version_verify(*, version: DatasetVersion) -> VersionVerification:
    """Recompute every member's content hash (from its fields) and row hash, and the
    version's hash; report rows that changed, by external id, and counts that no longer
    match the manifest. Reads only."""
    rows, tampered, splits = [], [], Counter()
    members = version.members.order_by("id").values(*FROZEN_COLUMNS, "row_hash")
    for stored in members.iterator(chunk_size=MEMBER_BATCH):
        fresh = {**stored, "content_hash": content_hash(stored["fields"])}
        fresh_row = member_row_hash(fresh)
        if (fresh["content_hash"], fresh_row) != (stored["content_hash"], stored["row_hash"]):
            tampered.append(stored["external_id"])
        rows.append((stored["split"], stored["external_id"], fresh_row))
        splits[stored["split"]] += 1
    actual = version_hash(rows)
    problems = _verification_problems(version, actual, sorted(tampered), splits)
    return VersionVerification(
        ok=not problems,
        expected_hash=version.content_hash,
        actual_hash=actual,
        tampered_rows=sorted(tampered),
        problems=problems,
    )


def _verification_problems(version, actual_hash, tampered, splits: Counter) -> list[str]:
    problems = []
    if tampered:
        shown = ", ".join(tampered[:20]) + (" …" if len(tampered) > 20 else "")
        problems.append(f"{len(tampered)} member row(s) no longer match their hashes: {shown}.")
    manifest = version.manifest or {}
    expected_count = manifest.get("member_count")
    if expected_count is not None and expected_count != sum(splits.values()):
        problems.append(
            f"The manifest lists {expected_count} members; {sum(splits.values())} are stored."
        )
    for split, expected in (manifest.get("split_counts") or {}).items():
        if expected != splits[split]:
            problems.append(
                f"The manifest lists {expected} {split} members; {splits[split]} are stored."
            )
    if actual_hash != version.content_hash:
        problems.append(
            f"The version hash is {actual_hash}, not the {version.content_hash} recorded at build."
        )
    return problems
