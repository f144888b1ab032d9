"""Majority vote, the label model, and choosing between them on the dev rows."""

import numpy as np
import pytest

from curation.weak_supervision.core import label_models
from curation.weak_supervision.core.label_models import (
    LABEL_MODEL,
    MAJORITY_VOTE,
    fit_and_choose,
    majority_vote,
    predictions,
)


def test_majority_vote_shares_ties_and_leaves_unvoted_rows_empty():
    matrix = np.array([[1, 1, 0], [0, 1, -1], [-1, -1, -1]])
    probabilities = majority_vote(matrix, cardinality=2)
    assert probabilities[0].tolist() == [0.0, 1.0]
    assert probabilities[1].tolist() == [0.5, 0.5]
    assert np.isnan(probabilities[2]).all()


def test_predictions_break_ties_at_random_but_reproducibly():
    probabilities = np.full((200, 2), 0.5)
    first, second = predictions(probabilities, seed=1), predictions(probabilities, seed=1)
    assert np.array_equal(first, second)
    assert 60 < first.sum() < 140  # both classes chosen


def _noisy_matrix(seed=0, n=600):
    """Three good LFs and two that copy each other and are mostly wrong."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    columns = []
    for accuracy, coverage in [(0.9, 0.6), (0.85, 0.5), (0.8, 0.5)]:
        vote = np.where(rng.random(n) < accuracy, truth, 1 - truth)
        columns.append(np.where(rng.random(n) < coverage, vote, -1))
    bad = np.where(rng.random(n) < 0.35, truth, 1 - truth)
    columns += [np.where(rng.random(n) < 0.7, bad, -1)] * 2
    return np.stack(columns, axis=1), truth


@pytest.mark.slow
def test_both_models_are_scored_on_the_dev_rows_and_the_better_one_chosen():
    matrix, truth = _noisy_matrix()
    gold = np.where(np.arange(len(truth)) < 200, truth, -1)  # 200 dev rows
    best, results = fit_and_choose(matrix, gold, cardinality=2)
    scores = {r.name: r.dev_accuracy for r in results}
    assert set(scores) == {MAJORITY_VOTE, LABEL_MODEL}
    assert best.dev_accuracy == max(scores.values())
    assert best.probabilities.shape == (len(truth), 2)


def test_majority_vote_wins_when_the_label_model_is_worse(monkeypatch):
    matrix = np.array([[1, 1, 0]] * 10 + [[0, 0, 1]] * 10)
    gold = np.array([1] * 10 + [0] * 10)

    def wrong(matrix, *, cardinality, seed=123, epochs=500):
        return np.tile([1.0, 0.0], (len(matrix), 1))  # always class 0

    monkeypatch.setattr(label_models, "label_model", wrong)
    best, results = fit_and_choose(matrix, gold, cardinality=2)
    assert best.name == MAJORITY_VOTE
    assert {r.name: r.dev_accuracy for r in results} == {MAJORITY_VOTE: 1.0, LABEL_MODEL: 0.5}


def test_label_model_needs_three_lfs():
    matrix = np.array([[1, 1], [0, -1], [1, 0]])
    best, results = fit_and_choose(matrix, np.array([1, 0, -1]), cardinality=2)
    assert [r.name for r in results] == [MAJORITY_VOTE]
    assert best.name == MAJORITY_VOTE
