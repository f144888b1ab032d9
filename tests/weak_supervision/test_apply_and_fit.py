"""Applying LFs and fitting the label model through runs: the matrix, the LF versions that
made it, and weak labels written below human labels."""

import pytest

from curation.models import Example, Label, LabelOrigin, Run, RunStatus
from curation.services.labels import label_add
from curation.services.runs import run_create, run_execute
from curation.weak_supervision.models import LabelModelFit, LFApplication
from curation.weak_supervision.selectors.applications import application_matrix
from curation.weak_supervision.services.application import lf_apply
from curation.weak_supervision.services.functions import labeling_function_update


def _run(kind, project):
    run = run_create(kind=kind, target=project, project=project)
    return run_execute(run.pk)


def test_apply_records_the_matrix_and_the_lf_versions(spam_project, spam_lfs):
    run = _run("lf_apply", spam_project)
    assert run.status == RunStatus.SUCCEEDED, run.error
    application = LFApplication.objects.get(pk=run.result["application_id"])
    ids, matrix = application_matrix(application)
    assert len(ids) == 12 and matrix.shape == (12, 3)
    names = application.analysis["names"]
    texts = dict(Example.objects.values_list("id", "fields__text"))
    my = names.index("keyword_my")
    assert [bool(v >= 0) for v in matrix[:, my]] == [" my " in f" {texts[i]} " for i in ids]
    by_name = {lf.name: lf.latest_version.pk for lf in spam_lfs}
    assert application.lf_versions == [by_name[name] for name in names]
    assert application.analysis["n_dev"] == 6


def test_a_new_version_is_used_by_the_next_application_only(spam_project, spam_lfs):
    first = lf_apply(project=spam_project)
    new = labeling_function_update(
        labeling_function=spam_lfs[0], label="spam", params={"keywords": ["channel"]}
    )
    second = lf_apply(project=spam_project)
    assert new.pk in second.lf_versions and new.pk not in first.lf_versions
    assert [v.number for v in first.versions] == [1, 1, 1]


def test_apply_without_lfs_fails_with_a_clear_error(spam_project):
    run = _run("lf_apply", spam_project)
    assert run.status == RunStatus.FAILED
    assert "no active labeling functions" in run.error


@pytest.mark.slow
def test_fit_writes_weak_labels_that_rank_below_human_labels(spam_project, spam_lfs):
    human = Example.objects.get(external_id="c0")  # labelled spam by the import
    run = _run("label_model_fit", spam_project)
    assert run.status == RunStatus.SUCCEEDED, run.error
    fit = LabelModelFit.objects.get()
    assert run.result["chosen"] == fit.chosen
    assert fit.majority_vote_accuracy is not None and fit.label_model_accuracy is not None
    weak = Label.objects.filter(origin=LabelOrigin.LABELING_FUNCTION)
    # "lol", "wow" and "who is listening in 2015" get no vote, so no weak label
    assert weak.count() == fit.labels_written == 9
    assert {label.author for label in weak} == {fit.author}
    assert all(0.0 < label.confidence <= 1.0 for label in weak)
    human.refresh_from_db()
    assert (human.resolved_label, human.resolved_label_origin) == ("spam", "import")
    nice_song = Example.objects.get(external_id="c7")
    assert (nice_song.resolved_label, nice_song.resolved_label_origin) == (
        "ham",
        "labeling_function",
    )
    unvoted = Example.objects.get(external_id="c9")
    assert unvoted.resolved_label == ""


@pytest.mark.slow
def test_a_second_fit_replaces_the_weak_labels_and_an_annotator_still_wins(spam_project, spam_lfs):
    _run("label_model_fit", spam_project)
    video = Example.objects.get(external_id="c6")
    label_add(example=video, value="ham", origin=LabelOrigin.ANNOTATOR, author="ann")
    _run("label_model_fit", spam_project)
    weak = Label.objects.filter(origin=LabelOrigin.LABELING_FUNCTION)
    assert weak.count() == 9  # replaced, not added
    assert set(weak.values_list("meta__fit", flat=True)) == {LabelModelFit.objects.first().pk}
    video.refresh_from_db()
    assert (video.resolved_label, video.resolved_label_origin) == ("ham", "annotator")
    assert Run.objects.filter(kind="label_model_fit", status="succeeded").count() == 2
