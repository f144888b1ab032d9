"""The E2E benchmark's one-click path: the training set becomes a generation project and
an approved version, a run launches with the launch page's values, and its model is
scored on the official test MRs, with intervals and paired differences."""

import json

import pytest

from benchmarks import e2e_nlg, e2e_nlg_scoring


def test_scores_and_paired_differences_name_the_better_outputs(shared_data):
    prompts, references = e2e_nlg.mr_groups(20)
    assert len(prompts) == 20 and all(references)
    assert prompts == e2e_nlg.mr_groups(20)[0]  # the same seeded subset every run
    perfect = [refs[0] for refs in references]
    copied = list(prompts)
    best = e2e_nlg_scoring.scores(perfect, references)
    worst = e2e_nlg_scoring.scores(copied, references)
    assert best["rouge_l"] == pytest.approx(100.0) and best["bleu"] > 90
    assert best["bleu_ci"][0] <= best["bleu"] <= best["bleu_ci"][1]
    assert worst["rouge_l"] < 60
    assert best["challenge"]["rouge_l"] == pytest.approx(100.0)
    assert best["challenge"]["bleu"] >= best["bleu"]  # case-insensitive
    assert worst["challenge"]["rouge_l"] < 60
    gap = e2e_nlg_scoring.difference(perfect, copied, references)
    assert gap["rouge_l"] > 40 and gap["rouge_l_ci"][0] > 0 and gap["bleu_ci"][0] > 0
    assert gap["challenge"]["rouge_l_ci"][0] > 0 and gap["challenge"]["bleu_ci"][0] > 0


def test_a_report_is_rescored_from_its_kept_outputs(shared_data, tmp_path):
    prompts, references = e2e_nlg.mr_groups(12)
    output = tmp_path / "e2e.json"
    kept = e2e_nlg.outputs_folder(output)
    kept.mkdir()
    rows = [("default", "greedy", [refs[0] for refs in references]), ("default", "beam4", prompts)]
    for arm, decoding, outputs in rows:
        (kept / f"{arm}_{decoding}.json").write_text(
            json.dumps({"prompts": prompts, "outputs": outputs})
        )
    stale = {"bleu": 0.0, "rouge_l": 0.0}
    report = {
        "test_mrs": 12,
        "rows": [{"arm": a, "decoding": d, "steps": 5, "scores": stale} for a, d, _ in rows],
    }
    output.write_text(json.dumps(report))

    e2e_nlg.rescore(output)

    greedy, beam = json.loads(output.read_text())["rows"]
    assert greedy["scores"]["challenge"]["rouge_l"] == pytest.approx(100.0)
    assert beam["scores"]["rouge_l"] < 60
    assert beam["difference_from_first_decoding"]["challenge"]["rouge_l"] < -40
    (kept / "default_beam4.json").write_text(json.dumps({"prompts": prompts[:3], "outputs": []}))
    with pytest.raises(SystemExit, match="other MRs"):
        e2e_nlg.rescore(output)


@pytest.mark.slow
def test_one_click_run_on_the_real_training_set_is_scored_on_test_mrs(
    shared_data, db, tmp_path, django_capture_on_commit_callbacks
):
    version, engineer = e2e_nlg.approved_version(60, tmp_path)
    assert version.is_approved and 50 < version.members.count() <= 60
    short = {"max_steps": 2, "eval_steps": 2, "eval_max_examples": 2}
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs it on commit
        training_run, values = e2e_nlg.launch_arm(version, engineer, short, 5.0, run_test=2)
    trained = e2e_nlg.arm_result(training_run, values)

    assert trained["steps"] == 2 and not trained["stopped_at_budget"]
    assert trained["values"]["method"] == "full"  # the launch page's small-model default
    outputs = e2e_nlg.generate(trained, ["name[Zizzi], eatType[pub]"], e2e_nlg.DECODINGS["greedy"])
    assert len(outputs) == 1 and outputs[0].strip()


def test_decodings_are_chosen_on_a_dev_report_beside_the_headline(shared_data, tmp_path):
    output = tmp_path / "e2e.json"
    arm = {"values": {"num_beams": 1}, "steps": 7, "base_model": "base"}
    headline = {"machine": {}, "version": {"number": 1}, "budget_minutes": 60}
    headline.update(test_mrs=630, arms={"default": arm}, rows=[{"arm": "default"}])
    output.write_text(json.dumps(headline))

    dev = e2e_nlg.split_report(output, "dev", 25)

    assert dev == tmp_path / "e2e_dev.json"
    report = json.loads(dev.read_text())
    assert report["split"] == "dev" and report["rows"] == [] and report["arms"] == {"default": arm}
    prompts, references = e2e_nlg.report_groups(report)
    assert len(prompts) == 25 and all(references)
    test_prompts, _ = e2e_nlg.report_groups(headline)
    assert len(test_prompts) == 630 and not set(prompts) & set(test_prompts)
    assert json.loads(output.read_text()) == headline  # the headline is left as it was
    assert e2e_nlg.split_report(output, "test", 0) == output
