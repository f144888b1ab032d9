"""The blind preference core: seeded, balanced A/B assignment that hides the fine-tuned
side, reading votes back, and the statistics against numbers worked out by hand."""

import pytest

from training.core import preference as core
from training.core.config import TrainingConfig
from training.core.data import PromptGroup
from training.core.evaluation import generation_comparison


def pairs(n: int, *, identical: int = 0) -> list[core.PairSample]:
    made = [
        core.PairSample(i, f"prompt {i}", f"tuned answer {i}", f"base answer {i}") for i in range(n)
    ]
    for i in range(identical):
        made[i] = core.PairSample(i, f"prompt {i}", "same answer", "same answer ")
    return made


# -- what the run's evaluation keeps -------------------------------------------------------


def test_generation_comparison_keeps_the_prompts_and_references_aligned_with_samples():
    from training.core.evaluation import SAMPLES_KEPT

    n = SAMPLES_KEPT + 5  # more test prompts than the evaluation keeps
    groups = [PromptGroup({"prompt": f"name[P{i}]"}, [f"P{i} ref", f"P{i} alt"]) for i in range(n)]
    tuned = [f"P{i} ref" for i in range(n)]
    base = [f"base {i}" for i in range(n)]
    config = TrainingConfig(task_type="generation", bootstrap_samples=10)

    comparison = generation_comparison(
        groups, tuned_outputs=tuned, base_outputs=base, config=config
    )

    assert comparison["sample_prompts"] == [f"name[P{i}]" for i in range(SAMPLES_KEPT)]
    assert comparison["sample_references"][3] == ["P3 ref", "P3 alt"]
    found = core.comparison_pairs(comparison, task_type="generation")
    assert len(found) == SAMPLES_KEPT
    assert (found[7].prompt, found[7].tuned, found[7].base) == ("name[P7]", "P7 ref", "base 7")


def test_a_classification_run_is_refused_with_the_reason():
    with pytest.raises(core.PreferenceError, match="outputs are labels"):
        core.comparison_pairs({"systems": {"fine_tuned": {}}}, task_type="classification")


def test_an_unfinished_run_is_refused():
    with pytest.raises(core.PreferenceError, match="no test-split comparison yet"):
        core.comparison_pairs(None, task_type="generation")


def test_a_run_evaluated_before_prompts_were_stored_says_to_re_run():
    old = {"systems": {"fine_tuned": {"samples": ["x"]}, "base": {"samples": ["y"]}}}
    with pytest.raises(core.PreferenceError, match="not available: re-run the training"):
        core.comparison_pairs(old, task_type="generation")


# -- blind assignment ----------------------------------------------------------------------


def test_assignment_is_seeded():
    first, _ = core.blind_assign(pairs(20), sample_size=12, seed=7)
    again, _ = core.blind_assign(pairs(20), sample_size=12, seed=7)
    other, _ = core.blind_assign(pairs(20), sample_size=12, seed=8)
    assert first == again
    assert [(i.index, i.tuned_side) for i in first] != [(i.index, i.tuned_side) for i in other]


def test_sides_are_balanced_and_each_output_lands_on_its_side():
    items, _ = core.blind_assign(pairs(20), sample_size=20, seed=3)
    assert sorted(i.tuned_side for i in items).count("a") == 10
    for item in items:
        tuned = item.output_a if item.tuned_side == "a" else item.output_b
        base = item.output_b if item.tuned_side == "a" else item.output_a
        assert (tuned, base) == (f"tuned answer {item.index}", f"base answer {item.index}")


def test_which_side_is_tuned_varies_per_item_across_seeds():
    first_item_sides = [
        core.blind_assign(pairs(10), sample_size=10, seed=seed)[0][0].tuned_side
        for seed in range(200)
    ]
    assert 70 <= first_item_sides.count("a") <= 130


def test_odd_sample_sizes_differ_by_one_at_most():
    items, _ = core.blind_assign(pairs(9), sample_size=9, seed=1)
    assert (
        abs(sum(i.tuned_side == "a" for i in items) - sum(i.tuned_side == "b" for i in items)) == 1
    )


def test_task_data_shows_the_pair_without_naming_either_system():
    items, _ = core.blind_assign(pairs(4), sample_size=4, seed=0)
    data = items[0].task_data(1)
    assert set(data) == {"prompt", "response_a", "response_b", core.ITEM_KEY}
    assert "tuned" not in str(sorted(data)) and "base" not in str(sorted(data))


def test_identical_pairs_are_left_out_and_counted():
    items, identical = core.blind_assign(pairs(6, identical=2), sample_size=4, seed=0)
    assert identical == 2
    assert sorted(i.index for i in items) == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("size", "message"),
    [(0, "at least 1"), (5, "ask for at most 4, not 5")],
)
def test_bad_sample_sizes_are_refused(size, message):
    with pytest.raises(core.PreferenceError, match=message):
        core.blind_assign(pairs(6, identical=2), sample_size=size, seed=0)


def test_all_identical_outputs_are_refused():
    with pytest.raises(core.PreferenceError, match="identical: there is nothing to prefer"):
        core.blind_assign(pairs(3, identical=3), sample_size=1, seed=0)


# -- votes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "side", "outcome"),
    [("a", "a", "tuned"), ("b", "a", "base"), ("a", "b", "base"), ("b", "b", "tuned"),
     ("tie", "b", "tie")],
)  # fmt: skip
def test_unblinding(choice, side, outcome):
    assert core.unblind(choice, side) == outcome


def test_an_unknown_vote_is_refused():
    with pytest.raises(core.PreferenceError, match="Unknown vote 'c'"):
        core.unblind("c", "a")


@pytest.mark.parametrize(("choice", "label"), list(core.CHOICE_LABELS.items()))
def test_votes_are_read_from_annotation_results(choice, label):
    result = [{"from_name": "preference", "to_name": "prompt", "type": "choices",
               "value": {"choices": [label]}}]  # fmt: skip
    assert core.vote_from_result(result) == choice


def test_a_result_without_a_choice_is_no_vote():
    assert core.vote_from_result([]) is None
    assert (
        core.vote_from_result([{"from_name": "other", "value": {"choices": ["A is better"]}}])
        is None
    )


def test_the_label_config_names_the_responses_a_and_b_only():
    config = core.preference_label_config()
    assert "Response A" in config and "Response B" in config
    assert "$response_a" in config and "$prompt" in config
    assert "tuned" not in config.lower() and "base" not in config.lower()


# -- statistics ----------------------------------------------------------------------------


def test_wilson_interval_matches_hand_computation():
    # 7 of 10: centre (0.7 + 1.96²/20) / (1 + 1.96²/10) = 0.6445, half-width 0.2477
    low, high = core.wilson_interval(7, 10)
    assert low == pytest.approx(0.3968, abs=1e-4)
    assert high == pytest.approx(0.8922, abs=1e-4)
    assert core.wilson_interval(0, 4)[0] == 0.0


def test_sign_test_matches_the_binomial_by_hand():
    assert core.sign_test(7, 10) == pytest.approx(2 * 176 / 1024)  # P(X >= 7) = 176/1024
    assert core.sign_test(9, 10) == pytest.approx(2 * 11 / 1024)
    assert core.sign_test(5, 10) == pytest.approx(1.0)


def test_one_vote_per_item_rate_ties_apart_and_verdict():
    votes = [(i, "tuned") for i in range(9)] + [(9, "base"), (10, "tie"), (11, "tie")]
    stats = core.preference_stats(votes)
    tally = stats.votes
    assert (tally.tuned, tally.base, tally.ties, tally.decided) == (9, 1, 2, 10)
    assert tally.rate == pytest.approx(0.9)
    assert tally.p_value == pytest.approx(22 / 1024)
    assert stats.basis == "votes" and stats.items == tally
    assert stats.verdict.startswith("Annotators prefer the fine-tuned model")
    assert "9 of 10 decided votes (90%" in stats.verdict and "2 ties" in stats.verdict


def test_base_preferred_significantly():
    stats = core.preference_stats([(i, "base") for i in range(8)])
    assert stats.votes.rate == 0.0
    assert stats.verdict.startswith("Annotators prefer the base model")


def test_no_significant_preference_says_so():
    stats = core.preference_stats(
        [(i, "tuned") for i in range(7)] + [(i, "base") for i in range(7, 10)]
    )
    assert stats.votes.p_value == pytest.approx(0.34375)
    assert stats.verdict.startswith("No significant preference")


def test_several_annotators_count_every_vote_and_decide_per_item_by_majority():
    votes = [
        (1, "tuned"), (1, "tuned"), (1, "base"),  # tuned by majority
        (2, "base"), (2, "tie"), (2, "tie"),  # base: tie votes abstain
        (3, "tuned"), (3, "base"),  # equal: a tie
        (4, "tie"), (4, "tuned"), (4, "tie"),  # tuned
    ]  # fmt: skip
    stats = core.preference_stats(votes)
    assert (stats.votes.tuned, stats.votes.base, stats.votes.ties) == (4, 3, 4)
    assert stats.votes.rate == pytest.approx(4 / 7)
    assert (stats.items.tuned, stats.items.base, stats.items.ties) == (2, 1, 1)
    assert stats.items.rate == pytest.approx(2 / 3)
    assert stats.basis == "items"
    assert "won the majority on 2 of 3 decided items (67%" in stats.verdict


def test_no_votes_and_only_ties():
    assert core.preference_stats([]).verdict == "No votes yet."
    only_ties = core.preference_stats([(1, "tie"), (2, "tie")])
    assert only_ties.votes.rate is None and only_ties.votes.p_value is None
    assert only_ties.verdict == "No preference either way: all 2 votes are ties."
