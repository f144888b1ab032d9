"""The label-noise benchmark's noise injection and scoring, and the default label-issue
finder it crowned: the one the quality-check run, pages, API and CLI use, and better
than the plain script on data and a seed it was not tuned on."""

import numpy as np
import pytest

from benchmarks import label_noise as bench
from benchmarks.label_noise_data import TextSet, flag_scores, inject_noise, load_sms
from curation.quality.core import label_issues
from curation.quality.forms import QualityCheckForm
from curation.quality.management.commands.quality_check import Command
from curation.quality.services.checks import quality_check_start


def test_uniform_noise_flips_about_the_rate_to_other_classes():
    labels = np.repeat(np.arange(4), 2500)
    noisy, flipped = inject_noise(labels, n_classes=4, rate=0.2, kind="uniform", seed=0)
    assert 0.18 < flipped.mean() < 0.22
    assert (noisy[flipped] != labels[flipped]).all() and (noisy[~flipped] == labels[~flipped]).all()
    assert len(set(noisy[flipped & (labels == 0)])) == 3  # any other class


def test_asymmetric_noise_sends_each_class_to_the_next_at_its_own_rate():
    labels = np.repeat(np.arange(2), 5000)
    noisy, flipped = inject_noise(labels, n_classes=2, rate=0.2, kind="asymmetric", seed=0)
    assert (noisy[flipped] == (labels[flipped] + 1) % 2).all()
    assert 0.08 < flipped[labels == 0].mean() < 0.12  # 0.5 x rate
    assert 0.27 < flipped[labels == 1].mean() < 0.33  # 1.5 x rate


def test_flag_scores_against_the_flips():
    flipped = np.array([True, True, False, False])
    scores = flag_scores(np.array([True, False, True, False]), flipped)
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.5, 0.5, 0.5)
    assert flag_scores(np.zeros(4, dtype=bool), flipped)["f1"] == 0.0


def test_every_entry_point_uses_the_finders_default():
    import curation.urls  # noqa: F401 - the API modules load through the URLconf
    from curation.quality.api import QualityCheckIn

    assert QualityCheckIn().model == label_issues.DEFAULT_MODEL
    assert QualityCheckIn().filter_by == label_issues.DEFAULT_FILTER
    assert quality_check_start.__kwdefaults__["model"] == label_issues.DEFAULT_MODEL
    assert quality_check_start.__kwdefaults__["filter_by"] == label_issues.DEFAULT_FILTER
    parser = Command().create_parser("manage.py", "quality_check")
    defaults = vars(parser.parse_args(["project"]))
    assert (defaults["model"], defaults["filter_by"], defaults["folds"]) == (
        label_issues.DEFAULT_MODEL,
        label_issues.DEFAULT_FILTER,
        5,
    )
    assert QualityCheckForm.base_fields["filter_by"].initial == label_issues.DEFAULT_FILTER


def test_the_model_with_the_lowest_held_out_log_loss_is_chosen():
    labels = np.array([0, 1, 1])
    sure = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9]])
    unsure = np.full((3, 2), 0.5)
    assert label_issues.held_out_log_loss(labels, sure) < label_issues.held_out_log_loss(
        labels, unsure
    )


@pytest.mark.slow
def test_the_default_beats_the_plain_script_on_data_and_a_seed_it_was_not_tuned_on(
    shared_data,
):
    # The alpha grid was tuned on YouTube seed 0, the word-model average chosen on seeds 0
    # and 1 of the benchmark's cells; seed 7's flips were never looked at while choosing.
    # (The word+char model alone scored F1 0.825 here against the plain script's 0.834.)
    sms = load_sms(shared_data / "sms_spam")
    part = TextSet("sms_spam", sms.texts[:2000], sms.labels[:2000], sms.classes)
    row = bench.run_cell(part, kind="asymmetric", rate=0.2, seed=7)
    assert row["assay"]["f1"] > row["plain"]["f1"]
    assert row["assay"]["f1"] > row["datalab"]["f1"]


def test_the_choice_record_scores_each_average_with_the_c_log_loss_picks(tmp_path):
    from benchmarks import label_noise_choice as choice

    truth = np.array([0, 1] * 20)
    noisy, flipped = truth.copy(), np.zeros(40, dtype=bool)
    noisy[[3, 8]], flipped[[3, 8]] = 1 - truth[[3, 8]], True
    sure = np.eye(2)[truth] * 0.9 + 0.05  # believes the true class: doubts rows 3 and 8
    fooled = np.eye(2)[noisy] * 0.9 + 0.05  # believes the given labels, flips included
    parts = {"C": sure, "W": sure, "M1": np.full((40, 2), 0.5), "M10": fooled, "M100": sure}
    path = tmp_path / "cell.npz"
    np.savez(path, noisy=noisy, flipped=flipped, **parts)
    scores = choice.cell_scores(path)
    assert scores["minilm_c_picked"] == 10.0  # the least log-loss against the given labels
    assert scores["f1"]["CW"] == scores["f1"]["CWM100"] == 1.0
    assert scores["f1"]["M*"] == 0.0  # the picked model doubts nothing
