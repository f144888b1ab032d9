"""The label-error benchmark's logic: loading, top-k flags and both precisions."""

import numpy as np
import pytest

from benchmarks import label_errors as bench


def test_precisions_count_unreviewed_flags_only_in_the_strict_one():
    result = bench.score([1, 2, 3, 4], verified={1, 2}, reviewed={1, 2, 3})
    assert result["precision_strict"] == 0.5
    assert result["precision_among_reviewed"] == round(2 / 3, 4)


def test_top_flags_are_topped_up_to_k_with_disagreements():
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([[0.1, 0.9], [0.45, 0.55], [0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.3, 0.7]])
    flags = bench.top_flags(labels, probs, classes=["a", "b"], k=3, ranking="cleanlab")
    assert len(flags) == 3 and flags[:2] == [0, 3]
    assert all(probs[i].argmax() != labels[i] for i in flags)
    ranked = bench.top_flags(labels, probs, classes=["a", "b"], k=3, ranking="self_confidence")
    assert ranked == [0, 3, 1]


@pytest.mark.slow
def test_benchmark_on_a_20news_slice(shared_data):
    full = bench.load_20news(shared_data / "label_errors_20news")
    assert len(full["texts"]) == 7532 and len(full["verified"]) == 82
    assert len(full["reviewed"]) == 93 and full["verified"] <= full["reviewed"]
    for reference in bench.reference_rows(full, k=93):
        assert reference["flags"] == 93
        assert reference["verified_errors"] <= reference["flags_reviewed"] <= 93

    part = bench.load_20news(shared_data / "label_errors_20news", limit=800)
    rows = bench.assay_rows(part, model="tfidf", k=10, folds=3, seed=0)
    assert [row["ranking"] for row in rows] == ["cleanlab", "self_confidence"]
    for row in rows:
        assert row["flags"] == 10
        assert row["cv_accuracy"] > 0.5  # the model learned the topics out of sample
        assert row["verified_errors"] <= row["flags_reviewed"]
