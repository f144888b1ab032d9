"""LF analysis over a label matrix: what Snorkel's ``LFAnalysis`` reports, plus empirical
accuracy against the human labels of the dev rows and a pairwise conflict matrix."""

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LFStats:
    """One LF's numbers. Shares are of all rows; accuracy is on the dev rows it voted on
    (None when it voted on none)."""

    polarity: list[int]
    coverage: float
    overlaps: float
    conflicts: float
    votes: int
    dev_votes: int
    correct: int
    incorrect: int
    accuracy: float | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MatrixAnalysis:
    n_rows: int
    lfs: list[LFStats]
    coverage: float  # rows with at least one vote
    overlap: float  # rows with two votes or more
    conflict: float  # rows with disagreeing votes
    conflict_matrix: list[list[float]]  # share of rows where LF i and LF j vote differently
    n_dev: int

    def as_dict(self) -> dict:
        return {**asdict(self), "lfs": [lf.as_dict() for lf in self.lfs]}


def row_conflicts(matrix: np.ndarray) -> np.ndarray:
    """Rows where two non-abstaining votes differ."""
    voted = matrix >= 0
    high = np.where(voted, matrix, np.iinfo(np.int64).min).max(axis=1)
    low = np.where(voted, matrix, np.iinfo(np.int64).max).min(axis=1)
    return voted.any(axis=1) & (high != low)


def _pairwise_conflicts(matrix: np.ndarray) -> list[list[float]]:
    n, m = matrix.shape
    voted = matrix >= 0
    table = np.zeros((m, m))
    for i in range(m):
        both = voted[:, i, None] & voted
        table[i] = (both & (matrix[:, i, None] != matrix)).sum(axis=0) / max(n, 1)
    return np.round(table, 6).tolist()


def analyse_matrix(matrix: np.ndarray, gold: np.ndarray | None = None) -> MatrixAnalysis:
    """Coverage, overlaps, conflicts and polarity per LF; accuracy where ``gold`` (the
    human label index per row, ``-1`` for rows without one) is known."""
    matrix = np.asarray(matrix, dtype=np.int64)
    n, m = matrix.shape
    gold = np.full(n, -1) if gold is None else np.asarray(gold)
    voted = matrix >= 0
    votes_per_row = voted.sum(axis=1)
    conflicted = row_conflicts(matrix)
    dev = gold >= 0
    stats = []
    for j in range(m):
        column, mine = matrix[:, j], voted[:, j]
        others = votes_per_row - mine
        # a conflict for LF j needs another LF to disagree with *j*, not among themselves
        disagree = mine & ((matrix != column[:, None]) & voted).any(axis=1)
        on_dev = mine & dev
        correct = int((column[on_dev] == gold[on_dev]).sum())
        stats.append(
            LFStats(
                polarity=sorted(int(v) for v in np.unique(column[mine])),
                coverage=float(mine.mean()) if n else 0.0,
                overlaps=float((mine & (others > 0)).mean()) if n else 0.0,
                conflicts=float(disagree.mean()) if n else 0.0,
                votes=int(mine.sum()),
                dev_votes=int(on_dev.sum()),
                correct=correct,
                incorrect=int(on_dev.sum()) - correct,
                accuracy=correct / int(on_dev.sum()) if on_dev.any() else None,
            )
        )
    return MatrixAnalysis(
        n_rows=n,
        lfs=stats,
        coverage=float((votes_per_row > 0).mean()) if n else 0.0,
        overlap=float((votes_per_row > 1).mean()) if n else 0.0,
        conflict=float(conflicted.mean()) if n else 0.0,
        conflict_matrix=_pairwise_conflicts(matrix),
        n_dev=int(dev.sum()),
    )
