"""The pure drift statistics, the cron parser and threshold validation, called directly."""

from datetime import datetime

import numpy as np
import pytest

from loop.core import drift
from loop.core.cron import CronError, parse_cron
from loop.core.embeddings import hashed_embeddings


def _texts(words: str, n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    vocabulary = words.split()
    return [" ".join(rng.choice(vocabulary, 8)) for _ in range(n)]


HAM = _texts("see you at the pub tonight with family lunch home later ok", 60, 1)
SPAM = _texts("WIN free cruise txt CLAIM prize URGENT call 08001234 cash award", 60, 2)


def test_same_distribution_does_not_drift_but_a_shifted_one_does():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(0, 1, (80, 8)), rng.normal(0, 1, (80, 8)), rng.normal(1.5, 1, (80, 8))
    assert drift.domain_classifier_auc(a, b) < 0.7
    assert drift.domain_classifier_auc(a, c) > 0.9
    assert drift.mmd_permutation_test(a, b, permutations=50)["p_value"] > 0.05
    assert drift.mmd_permutation_test(a, c, permutations=50)["p_value"] < 0.05


def test_text_drift_shows_in_length_vocabulary_and_embeddings():
    same = hashed_embeddings(HAM[::2] + HAM[1::2])  # two halves of one distribution
    shifted = hashed_embeddings(HAM + SPAM)
    assert drift.oov_rate(HAM[:30], HAM[30:])["rate"] < 0.1
    assert drift.oov_rate(HAM, SPAM)["rate"] > 0.5
    assert drift.ks_drift([len(t) for t in HAM], [len(t) for t in SPAM])["statistic"] > 0.5
    assert drift.domain_classifier_auc(same[:30], same[30:]) < 0.75
    assert drift.domain_classifier_auc(shifted[:60], shifted[60:]) > 0.95


def test_label_and_generation_output_drift():
    assert drift.label_drift({"ham": 80, "spam": 20}, {"ham": 8, "spam": 2})["tvd"] == 0
    shifted = drift.label_drift({"ham": 80, "spam": 20}, {"ham": 2, "spam": 8})
    assert shifted["tvd"] == pytest.approx(0.6) and shifted["p_value"] < 0.01
    assert drift.refusal_rate(["I'm sorry, I can't help", "The Eagle serves food."]) == 0.5
    assert drift.prompt_overlap(["name[Zizzi]"], ["zizzi zizzi other"]) == pytest.approx(2 / 3)


def test_breaches_use_the_project_threshold_or_the_default():
    values = {"embedding_auc": 0.85, "error_rate": 0.01, "length_ks": None}
    assert [b["metric"] for b in drift.breaches(values, {})] == ["embedding_auc"]
    assert drift.breaches(values, {"embedding_auc": 0.9}) == []


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"embedding_auc": 1.5}, "between 0 and 1"),
        ({"nonsense": 0.1}, "Unknown metric 'nonsense'"),
        ({"error_rate": "high"}, "must be a number"),
        ({"latency_p95_ms": -1}, "between 0"),
    ],
)
def test_thresholds_out_of_range_are_refused_by_name(thresholds, message):
    with pytest.raises(drift.ThresholdError, match=message):
        drift.check_thresholds(thresholds)


def test_cron_schedules_match_like_cron():
    weekly = parse_cron("30 2 * * 1")  # Mondays 02:30
    assert weekly.matches(datetime(2026, 12, 7, 2, 30))
    assert not weekly.matches(datetime(2026, 12, 8, 2, 30))
    assert weekly.next_after(datetime(2026, 12, 7, 2, 30)) == datetime(2026, 12, 14, 2, 30)
    every = parse_cron("*/15 8-9 1,15 * *")
    assert every.fired_between(datetime(2026, 1, 1, 8, 1), datetime(2026, 1, 1, 8, 15))
    assert not every.fired_between(datetime(2026, 1, 2, 8, 0), datetime(2026, 1, 2, 9, 59))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "five fields"),
        ("61 * * * *", "minute field takes 0-59"),
        ("* * * 13 *", "month field takes 1-12"),
        ("*/0 * * * *", "Bad step"),
        ("a * * * *", "not a number"),
        ("5-1 * * * *", "takes 0-59"),
    ],
)
def test_malformed_cron_is_refused_with_the_field_named(expression, message):
    with pytest.raises(CronError, match=message):
        parse_cron(expression)
