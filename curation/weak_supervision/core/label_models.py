"""Turning a label matrix into one probabilistic label per row: majority vote and Snorkel's
``LabelModel``, and the choice between them on the human-labelled dev rows.

Rows without any vote get no label (probabilities are None); accuracy is measured the
Snorkel tutorial's way: on every dev row, ties and uncovered rows broken at random with a
fixed seed, so a model that abstains more is not flattered.
"""

from dataclasses import dataclass

import numpy as np

MAJORITY_VOTE = "majority_vote"
LABEL_MODEL = "label_model"
MIN_LFS_FOR_LABEL_MODEL = 3


@dataclass
class ModelResult:
    """One model's probabilities (rows × classes; NaN rows: no vote) and dev accuracy."""

    name: str
    probabilities: np.ndarray
    dev_accuracy: float | None = None


def majority_vote(matrix: np.ndarray, *, cardinality: int) -> np.ndarray:
    """Vote shares among the tied leaders: a 2–1 vote gives 1.0 to the winner, a 1–1 tie
    0.5 each. Rows without votes are NaN."""
    counts = np.zeros((matrix.shape[0], cardinality))
    for k in range(cardinality):
        counts[:, k] = (matrix == k).sum(axis=1)
    leaders = counts == counts.max(axis=1, keepdims=True)
    probabilities = leaders / leaders.sum(axis=1, keepdims=True)
    probabilities[counts.sum(axis=1) == 0] = np.nan
    return probabilities


def label_model(
    matrix: np.ndarray, *, cardinality: int, seed: int = 123, epochs: int = 500
) -> np.ndarray:
    """Snorkel ``LabelModel`` probabilities (fit on all rows; NaN where no LF voted)."""
    import torch
    from snorkel.labeling.model import LabelModel

    torch.manual_seed(seed)
    model = LabelModel(cardinality=cardinality, verbose=False)
    model.fit(matrix, n_epochs=epochs, log_freq=100, seed=seed, progress_bar=False)
    probabilities = model.predict_proba(matrix).astype(float)
    probabilities[(matrix < 0).all(axis=1)] = np.nan
    return probabilities


def predictions(probabilities: np.ndarray, *, seed: int = 123) -> np.ndarray:
    """Hard labels: the most probable class, ties and rows without votes at random
    (seeded), as Snorkel's ``tie_break_policy="random"``."""
    rng = np.random.default_rng(seed)
    n, k = probabilities.shape
    filled = np.where(np.isnan(probabilities), 1.0 / k, probabilities)
    best = np.isclose(filled, filled.max(axis=1, keepdims=True), atol=1e-5)
    noise = rng.random((n, k))
    return np.where(best, noise, -1.0).argmax(axis=1)


def accuracy(probabilities: np.ndarray, gold: np.ndarray, *, seed: int = 123) -> float | None:
    rows = gold >= 0
    if not rows.any():
        return None
    return float((predictions(probabilities[rows], seed=seed) == gold[rows]).mean())


def fit_and_choose(
    matrix: np.ndarray, gold: np.ndarray, *, cardinality: int, seed: int = 123
) -> tuple[ModelResult, list[ModelResult]]:
    """Fit both models, score them on the dev rows (``gold >= 0``), return the better one
    (majority vote wins ties: it is the simpler model) and both results."""
    results = [ModelResult(MAJORITY_VOTE, majority_vote(matrix, cardinality=cardinality))]
    if matrix.shape[1] >= MIN_LFS_FOR_LABEL_MODEL and matrix.shape[0] > 0:
        results.append(
            ModelResult(LABEL_MODEL, label_model(matrix, cardinality=cardinality, seed=seed))
        )
    for result in results:
        result.dev_accuracy = accuracy(result.probabilities, gold, seed=seed)
    if all(r.dev_accuracy is None for r in results):
        return results[-1], results  # no dev rows: trust the label model when there is one
    best = max(results, key=lambda r: (r.dev_accuracy or 0.0, r.name == MAJORITY_VOTE))
    return best, results
