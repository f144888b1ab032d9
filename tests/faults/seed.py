"""What the fault cases share: the seeded project, the audit log as a user reads it, and
the case type itself (see tests/faults/test_killed_runs.py)."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from curation.models import AuditEvent, Example, LabelOrigin, Project, Run
from curation.services.labels import label_add
from tests.factories import ExampleFactory, ProjectFactory

TOPICS = {
    "ham": "lunch meeting family weekend dinner garden movie friends song".split(),
    "spam": "winner prize claim free cash offer urgent click channel".split(),
}
SEED_SIZE = 120


@dataclass(frozen=True)
class FaultEnv:
    """What a case's steps may use: the test's folder, the user who starts runs, and
    ``fixture(name)`` for fixtures only some cases need (a tiny model to train)."""

    folder: Path
    user: object
    fixture: Callable[[str], object]


def seeded_project(name: str) -> Project:
    """A spam project of SEED_SIZE messages; two in three carry a human (import) label,
    a few of them wrong, as real data has."""
    rng = random.Random(12)
    project = ProjectFactory(name=name, label_set=["ham", "spam"])
    for n in range(SEED_SIZE):
        topic = ("ham", "spam")[n % 2]
        text = " ".join(rng.choices(TOPICS[topic], k=10))
        example = ExampleFactory(project=project, external_id=f"m{n}", fields={"text": text})
        if n % 3:
            label = topic if n % 17 else ("spam" if topic == "ham" else "ham")
            label_add(
                example=example, value=label, origin=LabelOrigin.IMPORT, author="seed", audit=False
            )
    return project


def audit_actions(project: Project, *, retries: str = "") -> list[str]:
    """The audit log's actions, without ``retries``: the user's own "start it again"."""
    events = AuditEvent.objects.filter(project=project).exclude(action=retries)
    return sorted(events.values_list("action", flat=True))


def examples_visible(project: Project) -> list[tuple]:
    rows = Example.objects.filter(project=project).values_list("content_hash", "resolved_label")
    return sorted(rows)


@dataclass(frozen=True)
class FaultCase:
    """A run kind under a worker killed at ``kill_at`` percent of its progress."""

    name: str
    begin: Callable[[Project, FaultEnv], Run]
    visible: Callable[[Project], dict]
    kill_at: float
    prepare: Callable[[Project, FaultEnv], None] = lambda project, env: None
    # For a kind that resumes instead of rolling back: checks what the kill left.
    partial: Callable[[dict, dict], None] | None = None
