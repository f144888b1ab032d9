"""LF analysis numbers against a hand-computed example and Snorkel's LFAnalysis."""

import numpy as np
import pytest
from snorkel.labeling import LFAnalysis

from curation.weak_supervision.core.analysis import analyse_matrix

# rows × 3 LFs; -1 abstains
MATRIX = np.array(
    [
        [1, 1, -1],  # overlap, agree
        [1, 0, -1],  # conflict between LF0 and LF1
        [-1, 0, 0],  # overlap, agree
        [-1, -1, -1],  # nothing
        [0, -1, 1],  # conflict between LF0 and LF2
        [-1, -1, 1],  # LF2 alone
    ]
)
GOLD = np.array([1, 1, 0, -1, 1, -1])  # rows 3 and 5 have no human label


def test_numbers_match_a_hand_computation():
    result = analyse_matrix(MATRIX, GOLD)
    lf0, lf1, lf2 = result.lfs
    assert (lf0.coverage, lf1.coverage, lf2.coverage) == (pytest.approx(3 / 6),) * 3
    assert lf0.overlaps == pytest.approx(3 / 6)
    assert lf2.overlaps == pytest.approx(2 / 6)
    assert (lf0.conflicts, lf1.conflicts, lf2.conflicts) == pytest.approx((2 / 6, 1 / 6, 1 / 6))
    assert lf0.polarity == [0, 1] and lf1.polarity == [0, 1] and lf2.polarity == [0, 1]
    # LF0 votes 1, 1, 0 on dev rows labelled 1, 1, 1: two right of three
    assert (lf0.correct, lf0.incorrect, lf0.accuracy) == (2, 1, pytest.approx(2 / 3))
    # LF2 votes on dev rows 2 (0, right) and 4 (1, right); row 5 has no human label
    assert (lf2.dev_votes, lf2.accuracy) == (2, 1.0)
    assert result.coverage == pytest.approx(5 / 6)
    assert result.overlap == pytest.approx(4 / 6)
    assert result.conflict == pytest.approx(2 / 6)
    assert result.n_dev == 4
    assert result.conflict_matrix[0][1] == pytest.approx(1 / 6, abs=1e-6)
    assert result.conflict_matrix[0][2] == pytest.approx(1 / 6, abs=1e-6)
    assert result.conflict_matrix[1][2] == 0.0


def test_coverage_overlaps_conflicts_agree_with_snorkel():
    rng = np.random.default_rng(3)
    matrix = rng.integers(-1, 3, size=(400, 6))
    ours = analyse_matrix(matrix)
    theirs = LFAnalysis(matrix).lf_summary()
    assert [lf.coverage for lf in ours.lfs] == pytest.approx(theirs["Coverage"].tolist())
    assert [lf.overlaps for lf in ours.lfs] == pytest.approx(theirs["Overlaps"].tolist())
    assert [lf.conflicts for lf in ours.lfs] == pytest.approx(theirs["Conflicts"].tolist())


def test_lf_without_dev_votes_has_no_accuracy():
    result = analyse_matrix(np.array([[1], [-1]]), np.array([-1, 0]))
    assert result.lfs[0].accuracy is None and result.lfs[0].dev_votes == 0
