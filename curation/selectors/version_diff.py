"""What changed between two versions of a project: examples added, removed and
relabelled (with samples), and how the label and length distributions moved."""

from curation.core.distribution import label_shift, length_shift
from curation.exceptions import AssayError
from curation.models import DatasetVersion

SAMPLES = 10


def diff_base(version: DatasetVersion, against: int | None = None) -> DatasetVersion | None:
    """The version to compare with: ``against`` (a number), else the parent, else the
    version numbered just before; None for a project's first version."""
    versions = DatasetVersion.objects.filter(project=version.project)
    if against is not None:
        base = versions.filter(number=against).first()
        if base is None:
            raise AssayError(f"{version.project.name} has no version {against}.")
        return base
    if version.parent_id:
        return version.parent
    return versions.filter(number__lt=version.number).order_by("-number").first()


def _members(version: DatasetVersion) -> dict[int, tuple]:
    rows = version.members.values_list("example_id", "external_id", "label", "fields", "split")
    return {row[0]: row[1:] for row in rows.iterator(chunk_size=5000)}


def _text_length(fields: dict) -> int:
    return sum(len(str(value)) for value in fields.values())


def version_diff(version: DatasetVersion, base: DatasetVersion | None) -> dict:
    """The diff of ``version`` against ``base`` (None: everything is added)."""
    new = _members(version)
    old = _members(base) if base is not None else {}
    added = [pk for pk in new if pk not in old]
    removed = [pk for pk in old if pk not in new]
    relabelled = [pk for pk in new if pk in old and new[pk][1] != old[pk][1]]
    edited = [pk for pk in new if pk in old and new[pk][2] != old[pk][2]]

    def row(members, pk, **extra):
        external_id, label, fields, split = members[pk]
        return {"external_id": external_id, "label": label, "split": split,
                "text": " · ".join(str(v) for v in fields.values())[:200], **extra}  # fmt: skip

    return {
        "base": base.number if base is not None else None,
        "version": version.number,
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "relabelled": len(relabelled),
            "content_changed": len(edited),
            "before": len(old),
            "after": len(new),
        },  # fmt: skip
        "added": [row(new, pk) for pk in added[:SAMPLES]],
        "removed": [row(old, pk) for pk in removed[:SAMPLES]],
        "relabelled": [row(new, pk, previous_label=old[pk][1]) for pk in relabelled[:SAMPLES]],
        "label_shift": label_shift(_label_counts(old), _label_counts(new)),
        "length_shift": length_shift(
            [_text_length(m[2]) for m in old.values()], [_text_length(m[2]) for m in new.values()]
        ),
    }


def _label_counts(members: dict[int, tuple]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, label, _, _ in members.values():
        counts[label] = counts.get(label, 0) + 1
    return counts


__all__ = ["diff_base", "version_diff"]
