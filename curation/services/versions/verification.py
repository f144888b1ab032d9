"""Checking that a dataset version's members still match what was frozen at build.

Hashes stored beside the rows only show that the rows agree with each other: whoever can
rewrite the rows can recompute them too. So a version is also held to records such a
rewrite cannot quietly redo:

- the manifest's counts per split and label;
- the signed attestations of the audit log (`attestation`): the hash and counts at build
  and at approval, in an append-only table, signed with a key outside the database;
- every export still on disk: its files against its SHA256SUMS, SHA256SUMS against the
  checksums recorded in the database, and the version hash its dataset card was written with.
"""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from curation.core import export_writers as writers
from curation.core.hashing import content_hash, file_sha256
from curation.models import AuditEvent, DatasetVersion, VersionStatus
from curation.services.versions.attestation import attestation_signature_valid
from curation.services.versions.build import (
    FROZEN_COLUMNS,
    MEMBER_BATCH,
    member_row_hash,
    version_hash,
)

ATTESTED_ACTIONS = {"version.build": "build", "version.approve": "approval"}


@dataclass
class VersionVerification:
    """The result of re-hashing a version's members against what was frozen."""

    ok: bool
    expected_hash: str
    actual_hash: str
    tampered_rows: list[str]
    problems: list[str]


@dataclass
class _Recount:
    rows: list[tuple[str, str, str]]
    tampered: list[str]
    splits: Counter
    labels: dict[str, Counter]


def dataset_version_verify(*, version: DatasetVersion) -> VersionVerification:
    """Recompute every member's content hash (from its fields) and row hash, and the
    version's hash; report rows that changed, by external id, and anything that no longer
    matches the manifest, the audit log's signed records or the exported files. Reads only."""
    recount = _recount(version)
    actual = version_hash(recount.rows)
    problems = [
        *_row_problems(recount.tampered),
        *_manifest_problems(version.manifest or {}, recount),
        *_stored_hash_problems(version, actual),
        *_audit_problems(version, actual),
        *_export_problems(version, actual),
    ]
    return VersionVerification(
        ok=not problems,
        expected_hash=version.content_hash,
        actual_hash=actual,
        tampered_rows=recount.tampered,
        problems=problems,
    )


def _recount(version: DatasetVersion) -> _Recount:
    rows, tampered, splits, labels = [], [], Counter(), {}
    members = version.members.values(*FROZEN_COLUMNS, "row_hash")
    for stored in members.iterator(chunk_size=MEMBER_BATCH):
        fresh = {**stored, "content_hash": content_hash(stored["fields"])}
        fresh_row = member_row_hash(fresh)
        if (fresh["content_hash"], fresh_row) != (stored["content_hash"], stored["row_hash"]):
            tampered.append(stored["external_id"])
        rows.append((stored["split"], stored["external_id"], fresh_row))
        splits[stored["split"]] += 1
        labels.setdefault(stored["split"], Counter())[stored["label"]] += 1
    return _Recount(rows, sorted(tampered), splits, labels)


def _row_problems(tampered: list[str]) -> list[str]:
    if not tampered:
        return []
    shown = ", ".join(tampered[:20]) + (" …" if len(tampered) > 20 else "")
    return [f"{len(tampered)} member row(s) no longer match their hashes: {shown}."]


def _manifest_problems(manifest: dict, recount: _Recount) -> list[str]:
    problems, stored = [], sum(recount.splits.values())
    expected_count = manifest.get("member_count")
    if expected_count is not None and expected_count != stored:
        problems.append(f"The manifest lists {expected_count} members; {stored} are stored.")
    for split, expected in (manifest.get("split_counts") or {}).items():
        if expected != recount.splits[split]:
            problems.append(
                f"The manifest lists {expected} {split} members; "
                f"{recount.splits[split]} are stored."
            )
    for split, expected_labels in (manifest.get("label_distribution") or {}).items():
        found = recount.labels.get(split, Counter())
        for label in sorted(set(expected_labels) | set(found)):
            if expected_labels.get(label, 0) != found[label]:
                problems.append(
                    f"The manifest lists {expected_labels.get(label, 0)} {label!r} in "
                    f"{split}; {found[label]} are stored."
                )
    return problems


def _stored_hash_problems(version: DatasetVersion, actual: str) -> list[str]:
    if actual == version.content_hash:
        return []
    return [f"The version hash is {actual}, not the {version.content_hash} recorded at build."]


def _audit_problems(version: DatasetVersion, actual: str) -> list[str]:
    """The rows against the hashes the append-only audit log recorded, and those records
    against their signatures."""
    problems = []
    events = AuditEvent.objects.filter(version_id=version.pk, action__in=ATTESTED_ACTIONS).order_by(
        "id"
    )
    actions = set()
    for event in events:
        after, moment = event.after or {}, ATTESTED_ACTIONS[event.action]
        actions.add(event.action)
        attestation = after.get("attestation")
        if attestation is not None and not attestation_signature_valid(
            attestation, after.get("signature", "")
        ):
            problems.append(
                f"The signature of the audit log's {moment} record (event {event.pk}) does not "
                f"match it: the audit log was rewritten, or ASSAY_SIGNING_KEY changed."
            )
        recorded = (attestation or {}).get("hash") or after.get("hash")
        if recorded and recorded != actual:
            problems.append(
                f"The audit log recorded hash {recorded} at {moment} (event {event.pk}, "
                f"{event.at:%Y-%m-%d %H:%M}); the rows now hash to {actual}."
            )
    if version.status == VersionStatus.APPROVED and "version.approve" not in actions:
        problems.append("The version is approved, but the audit log has no approval record.")
    return problems


def _export_problems(version: DatasetVersion, actual: str) -> list[str]:
    """Every export folder still on disk against its checksums and its card."""
    problems = []
    for export in version.exports.prefetch_related("files").order_by("id"):
        folder = Path(export.path)
        if not folder.is_dir():
            continue  # moved or cleaned up: nothing left to compare
        name = f"Export {export.pk} ({folder})"
        recorded = {f.path: f.sha256 for f in export.files.all()}
        sums = writers.CHECKSUM_FILE
        if sums in recorded and file_sha256(folder / sums) != recorded[sums]:
            problems.append(f"{name}: {sums} differs from the checksums recorded at export.")
        for path, digest in writers.read_checksums(folder).items():
            file = folder / path
            if not file.is_file() or file_sha256(file) != digest:
                problems.append(f"{name}: {path} no longer matches its {sums}.")
        card = folder / writers.CARD_FILE
        written_from = (
            writers.card_version_hash(card.read_text(encoding="utf-8"))
            if (card.is_file())
            else None
        )
        if written_from and written_from != actual:
            problems.append(
                f"{name} was written from version hash {written_from}; "
                f"the rows now hash to {actual}."
            )
    return problems
