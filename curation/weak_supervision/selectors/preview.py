"""A draft LF's numbers on a sample of the project, for the editor's live preview."""

from dataclasses import dataclass, field

from curation.models import Project
from curation.weak_supervision.core.declarative import LFSpecError, columns_for, compile_spec
from curation.weak_supervision.selectors.functions import project_rows, project_vote_labels

PREVIEW_SAMPLE = 2000


@dataclass
class Preview:
    error: str = ""
    sample: int = 0
    votes: int = 0
    coverage: float = 0.0
    dev_votes: int = 0
    accuracy: float | None = None
    matches: list[dict] = field(default_factory=list)


def lf_preview(
    project: Project, *, kind: str, params: dict, label: str, sample: int = PREVIEW_SAMPLE
) -> Preview:
    """Coverage (and accuracy on the human-labelled rows) of a draft LF on the first
    ``sample`` examples, with a few rows it votes on; an invalid spec comes back as
    ``error``, never raised."""
    labels = project_vote_labels(project)
    if label not in labels:
        return Preview(error=f"Choose the label it votes ({', '.join(labels)}).")
    try:
        lf = compile_spec(
            name="preview",
            kind=kind,
            params=params,
            vote=labels.index(label),
            fields=project.content_fields,
        )
    except LFSpecError as exc:
        return Preview(error=str(exc))
    rows = project_rows(project, limit=sample)
    mask = lf.mask(columns_for(rows.fields))
    on_dev = mask & (rows.gold >= 0)
    correct = int((rows.gold[on_dev] == lf.vote).sum())
    shown = mask.nonzero()[0][:5]
    return Preview(
        sample=len(rows),
        votes=int(mask.sum()),
        coverage=float(mask.mean()) if len(rows) else 0.0,
        dev_votes=int(on_dev.sum()),
        accuracy=correct / int(on_dev.sum()) if on_dev.any() else None,
        matches=[{name: rows.fields[name][i] for name in rows.fields} for i in shown],
    )
