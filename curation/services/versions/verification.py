"""Checking that a dataset version's members still match the hashes frozen at build."""

from collections import Counter
from dataclasses import dataclass

from curation.core.hashing import content_hash
from curation.models import DatasetVersion
from curation.services.versions.build import (
    FROZEN_COLUMNS,
    MEMBER_BATCH,
    member_row_hash,
    version_hash,
)


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
