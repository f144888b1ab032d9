"""Label issues found by the cross-validated model on planted errors."""

import random

import numpy as np
import pytest

from curation.exceptions import AssayError
from curation.quality.core.label_issues import (
    DEFAULT_MODEL,
    encode_labels,
    estimate_label_error_count,
    find_label_issues,
    out_of_sample_probabilities,
    rank_by_normalized_margin,
    rank_by_self_confidence,
    rank_label_issues,
)

TOPICS = {
    "sports": ["match", "goal", "team", "coach", "league", "score", "player", "season"],
    "cooking": ["recipe", "oven", "flour", "sauce", "garlic", "bake", "dinner", "spice"],
    "finance": ["stock", "market", "bank", "interest", "loan", "invest", "price", "fund"],
}


def planted_corpus(n_per_topic: int = 60, flips: int = 6, seed: int = 1):
    rng = random.Random(seed)
    texts, labels = [], []
    for topic, words in TOPICS.items():
        for _ in range(n_per_topic):
            texts.append(" ".join(rng.choices(words, k=12)))
            labels.append(topic)
    flipped = rng.sample(range(len(texts)), flips)
    for i in flipped:
        labels[i] = next(t for t in TOPICS if t != labels[i])
    return texts, labels, set(flipped)


def test_planted_label_errors_are_found_first_with_their_true_label():
    texts, labels, flipped = planted_corpus()
    issues = find_label_issues(texts, labels, model="tfidf", folds=5, seed=0)
    top = issues[: len(flipped)]
    assert {issue.index for issue in top} == flipped
    for issue in top:
        assert issue.suggested_label != issue.given_label
        assert texts[issue.index].split()[0] in TOPICS[issue.suggested_label]
        assert issue.score > 0.5


def test_the_default_flags_only_planted_errors_with_their_true_label():
    # Bags of topic words are not sentences: MiniLM is less sure of one planted error
    # (0.74 for its true topic), which the averaged default then leaves unflagged.
    texts, labels, flipped = planted_corpus()
    issues = find_label_issues(texts, labels, folds=5, seed=0)
    assert {issue.index for issue in issues} <= flipped and len(issues) >= len(flipped) - 1
    for issue in issues:
        assert texts[issue.index].split()[0] in TOPICS[issue.suggested_label]


def test_results_are_reproducible_with_a_seed():
    texts, labels, _ = planted_corpus(seed=2)
    first = find_label_issues(texts, labels, seed=3)
    assert first == find_label_issues(texts, labels, seed=3)


def test_one_label_only_is_refused_clearly():
    with pytest.raises(AssayError, match="at least two different labels"):
        find_label_issues(["a b", "c d", "e f"], ["x", "x", "x"])


def test_a_label_with_one_example_is_refused_clearly():
    with pytest.raises(AssayError, match="at least two examples"):
        find_label_issues(["a b", "c d", "e f"], ["x", "x", "y"])


def test_unknown_model_is_refused():
    texts, labels, _ = planted_corpus(n_per_topic=5, flips=0)
    with pytest.raises(AssayError, match="Unknown label-issue model"):
        find_label_issues(texts, labels, model="bert")


def test_the_default_model_averages_the_tfidf_pair_with_the_minilm_model():
    # The TF-IDF pair counts twice (it is itself the mean of two models), MiniLM once.
    texts, labels, _ = planted_corpus(n_per_topic=12, flips=2, seed=4)
    _classes, encoded = encode_labels(labels)
    probs = {
        model: out_of_sample_probabilities(texts, encoded, n_classes=3, model=model, folds=3)
        for model in ("ensemble", "tfidf", "minilm")
    }
    assert DEFAULT_MODEL == "ensemble"
    np.testing.assert_allclose(probs["ensemble"], (2 * probs["tfidf"] + probs["minilm"]) / 3)
    assert not np.allclose(probs["tfidf"], probs["minilm"], atol=0.01)


def test_ranking_by_self_confidence_takes_the_least_believed_disagreements():
    labels = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.95, 0.05], [0.3, 0.7]])
    assert rank_by_self_confidence(labels, probs, top=5) == [2, 1]
    issues = rank_label_issues(labels, probs, classes=["a", "b"])
    assert all(issue.suggested_label != issue.given_label for issue in issues)


# Two classes, four examples each. Thresholds (mean probability of the given label):
# 0.625 for class 0, 0.65 for class 1. Example 3 is confidently class 1 and example 7
# confidently class 0, the other six confidently their given label: the uncalibrated
# confident joint is [[3, 1], [1, 3]], so 2 of 8 labels (25%) are estimated wrong.
TWO_CLASS_LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])
TWO_CLASS_PROBS = np.array(
    [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.1, 0.9], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7], [0.8, 0.2]]
)


def test_label_error_count_is_the_off_diagonal_share_of_the_confident_joint():
    assert estimate_label_error_count(TWO_CLASS_LABELS, TWO_CLASS_PROBS) == 2
    clean = np.array([[0.9, 0.1]] * 4 + [[0.1, 0.9]] * 4)
    assert estimate_label_error_count(TWO_CLASS_LABELS, clean) == 0


def test_normalized_margin_filter_flags_the_estimated_count_by_margin():
    issues = rank_label_issues(
        TWO_CLASS_LABELS, TWO_CLASS_PROBS, classes=["a", "b"], filter_by="normalized_margin"
    )
    assert [issue.index for issue in issues] == [3, 7]  # margins -0.8, then -0.6
    assert [issue.suggested_label for issue in issues] == ["b", "a"]


def test_normalized_margin_weighs_how_sure_the_model_is_of_the_alternative():
    # Example 0 believes its label least (0.10) but is torn between two others;
    # example 1 (0.15) is sure of one other class, so its margin is lower.
    labels = np.array([0, 0, 1, 2])
    probs = np.array([[0.10, 0.45, 0.45], [0.15, 0.85, 0.0], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    assert rank_by_normalized_margin(labels, probs, top=5) == [1, 0]
    assert rank_by_self_confidence(labels, probs, top=5) == [0, 1]


def test_every_filter_finds_the_planted_errors():
    texts, labels, flipped = planted_corpus()
    for filter_by in ("normalized_margin", "both", "confident_learning"):
        issues = find_label_issues(
            texts, labels, model="tfidf", folds=5, seed=0, filter_by=filter_by
        )
        assert {issue.index for issue in issues[: len(flipped)]} == flipped, filter_by


def test_unknown_filter_is_refused_clearly():
    with pytest.raises(AssayError, match="Unknown label-issue filter 'margin'"):
        rank_label_issues(TWO_CLASS_LABELS, TWO_CLASS_PROBS, classes=["a", "b"], filter_by="margin")
    texts, labels, _ = planted_corpus(n_per_topic=5, flips=0)
    with pytest.raises(AssayError, match="prune_by_noise_rate, both"):
        find_label_issues(texts, labels, filter_by="margin")


@pytest.mark.slow
def test_minilm_embeddings_find_a_flipped_sentiment():
    texts = [f"I loved this film, it was wonderful and moving {i}" for i in range(12)]
    texts += [f"I hated this film, it was dreadful and boring {i}" for i in range(12)]
    labels = ["pos"] * 12 + ["neg"] * 12
    labels[3] = "neg"
    issues = find_label_issues(texts, labels, model="minilm", folds=3)
    assert issues and issues[0].index == 3
    assert issues[0].suggested_label == "pos"
