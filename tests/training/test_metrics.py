"""Metric functions against values worked out by hand."""

import numpy as np
import pytest

from training.core import metrics


def test_classification_metrics_match_hand_computed_values():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.4, 0.6], [0.2, 0.8]])
    result = metrics.classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], probabilities)

    assert result["accuracy"] == pytest.approx(0.75)
    # class 0: P 1, R 1/2 -> F1 2/3; class 1: P 2/3, R 1 -> F1 4/5
    assert result["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    # positives score 0.6, 0.8; negatives 0.1, 0.4: all four pairs ranked right
    assert result["auc_roc"] == pytest.approx(1.0)


def test_auc_counts_misordered_pairs_and_is_none_for_one_class():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    assert metrics.auc_roc([0, 0, 1, 1], probabilities) == pytest.approx(3 / 4)
    assert metrics.auc_roc([1, 1], probabilities[:2]) is None


def test_rouge_l_takes_the_best_reference():
    scores = metrics.rouge_l_scores(["the cat sat"], [["a dog barked", "the cat sat on the mat"]])
    # LCS 3 of 3 predicted and 6 reference tokens: P 1, R 1/2, F 2/3
    assert scores[0] == pytest.approx(100 * 2 / 3)


def test_bleu_is_100_for_an_exact_match_and_uses_every_reference():
    prediction = ["the restaurant serves cheap french food"]
    assert metrics.corpus_bleu(prediction, [["the restaurant serves cheap french food"]]) == (
        pytest.approx(100.0)
    )
    one = metrics.corpus_bleu(prediction, [["a pub near the river"]])
    both = metrics.corpus_bleu(
        prediction, [["a pub near the river", "the restaurant serves cheap french food"]]
    )
    assert both > one


def test_challenge_bleu_ignores_case_as_mteval_does():
    prediction = ["The Restaurant serves cheap French food"]
    reference = [["the restaurant serves cheap french food"]]
    assert metrics.corpus_bleu(prediction, reference) < 50
    assert metrics.corpus_bleu(prediction, reference, lowercase=True) == pytest.approx(100.0)


def test_ptb_tokens_split_clitics_and_drop_punctuation_like_the_coco_tokenizer():
    # What the Stanford tokenizer the challenge's script runs gives for this sentence.
    assert metrics.ptb_tokens("It's £20-25, isn't it? A family-friendly pub.") == [
        "it", "'s", "#", "20-25", "is", "n't", "it", "a", "family-friendly", "pub",
    ]  # fmt: skip


def test_challenge_rouge_l_takes_best_precision_and_best_recall_from_any_reference():
    prediction = "The cat sat on the mat."
    short, long = "the cat sat", "a cat sat on a mat today"
    # vs short: LCS 3 -> P 3/6, R 3/3; vs long: LCS 4 -> P 4/6, R 4/7.
    # The COCO evaluator takes P 4/6 from one and R 1 from the other, beta 1.2.
    expected = 100 * (1 + 1.44) * (4 / 6) * 1 / (1 + 1.44 * (4 / 6))
    assert metrics.e2e_rouge_l_scores([prediction], [[short, long]])[0] == pytest.approx(expected)
    assert metrics.e2e_rouge_l_scores(["", "dog"], [[short], [short]]).tolist() == [0.0, 0.0]


def test_bootstrap_interval_brackets_the_value_and_collapses_for_constant_data():
    values = np.array([0.0, 1.0] * 50)
    interval = metrics.bootstrap_interval(lambda idx: values[idx].mean(), 100, samples=300)
    assert interval.low < 0.5 < interval.high
    constant = metrics.bootstrap_interval(lambda idx: 0.7, 10, samples=50)
    assert (constant.low, constant.value, constant.high) == (0.7, 0.7, 0.7)


def test_verdict_reads_the_interval():
    assert metrics.verdict(metrics.Interval(0.1, 0.05, 0.2), metric="f1").startswith(
        "Fine-tuning helped"
    )
    assert metrics.verdict(metrics.Interval(-0.1, -0.2, -0.05), metric="f1").startswith(
        "Fine-tuning hurt"
    )
    assert metrics.verdict(metrics.Interval(0.01, -0.02, 0.04), metric="f1").startswith("No clear")
