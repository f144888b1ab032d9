"""Live quality: a stratified sample of logged requests (by variant and ISO week) is
labelled by people, and the answers are scored per deployment and week with 95%
bootstrap intervals. The round trip through the real Label Studio is marked slow."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import f1_score

from curation.exceptions import AssayError
from labeling.core.label_config import classification_result
from loop.core.live_quality import (
    classification_quality,
    generation_quality,
    generation_reference,
    iso_week,
    macro_f1,
    stratified_draw,
)
from loop.models import LiveQualityItem, LiveQualitySample, LoopPolicy
from loop.selectors.live_quality import live_quality_for_project, live_quality_weeks
from loop.services.live_quality import (
    live_quality_item_label,
    live_quality_pull,
    live_quality_push,
    live_quality_sample_draw,
)
from serving.models import RequestLog
from serving.services.experiments import experiment_create
from tests.factories import ProjectFactory
from tests.serving.helpers import active_deployment, finished_training_run

MONDAY = datetime(2026, 11, 2, 12, tzinfo=UTC)  # ISO week 2026-W45


# -- the pure core ---------------------------------------------------------------------


def test_iso_week_names_the_iso_year_and_week():
    assert iso_week(MONDAY) == "2026-W45"
    assert iso_week(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"  # a Friday of 2026's W53


def test_the_draw_takes_up_to_size_per_stratum_less_what_was_taken():
    candidates = [(f"a{n}", ("direct", "W1")) for n in range(10)]
    candidates += [(f"b{n}", ("direct", "W2")) for n in range(3)]
    candidates += [(f"c{n}", ("exp:challenger", "W1")) for n in range(8)]

    drawn = stratified_draw(candidates, size=4, taken={("exp:challenger", "W1"): 3}, seed=1)

    by_stratum = {s: sum(k.startswith(s) for k in drawn) for s in "abc"}
    assert by_stratum == {"a": 4, "b": 3, "c": 1}  # a small stratum gives all it has
    assert drawn == stratified_draw(candidates, size=4, taken={("exp:challenger", "W1"): 3},
                                    seed=1)  # fmt: skip
    assert drawn != stratified_draw(candidates, size=4, seed=2)
    with pytest.raises(ValueError, match="at least 1"):
        stratified_draw(candidates, size=0)


def test_a_generation_review_gives_the_reference_or_none():
    assert generation_reference(verdict="accept", corrected="", output="ok") == "ok"
    assert generation_reference(verdict="accept", corrected="better", output="ok") == "better"
    assert generation_reference(verdict="reject", corrected="right", output="ok") == "right"
    # the pre-filled answer submitted unchanged with "reject" is no reference
    assert generation_reference(verdict="reject", corrected="ok ", output="ok") is None


def test_macro_f1_matches_scikit_learn_and_the_intervals_hold_the_value():
    rng = np.random.default_rng(0)
    truth, guess = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert macro_f1(truth, guess) == pytest.approx(f1_score(truth, guess, average="macro"))

    gold = ["spam"] * 30 + ["ham"] * 70
    predicted = ["spam"] * 20 + ["ham"] * 10 + ["ham"] * 65 + ["spam"] * 5
    quality = classification_quality(predicted, gold)

    assert quality["n"] == 100
    assert quality["accuracy"]["value"] == pytest.approx(0.85)
    assert quality["accuracy"]["low"] < 0.85 < quality["accuracy"]["high"]
    assert quality["accuracy"]["high"] - quality["accuracy"]["low"] < 0.2
    assert quality["macro_f1"]["value"] == pytest.approx(f1_score(gold, predicted, average="macro"))
    assert classification_quality([], []) == {"n": 0, "accuracy": None, "macro_f1": None}


def test_rouge_l_scores_a_rejected_answer_without_reference_as_zero():
    quality = generation_quality(["the cat sat", "a dog"], ["the cat sat", None])
    assert quality["n"] == 2 and quality["rouge_l"]["value"] == pytest.approx(50.0)


# -- the draw and the selector on logged requests ---------------------------------------


def _log(deployment, n: int, at: datetime, *, label: str = "ham", **extra) -> RequestLog:
    return RequestLog.objects.create(
        request_id=f"{deployment.name}-{n}", project=deployment.project, deployment=deployment,
        training_run=deployment.training_run, endpoint="classifications",
        input={"texts": [f"message {n}"]}, output={"labels": [label]}, created_at=at, **extra,
    )  # fmt: skip


@pytest.fixture
def served(db):
    project = ProjectFactory(label_set=["ham", "spam"])
    run = finished_training_run(project, base="tiny", adapter=None, labels=["ham", "spam"])
    champion = active_deployment(run, "lq-champion")
    challenger = active_deployment(run, "lq-challenger")
    experiment = experiment_create(
        project=project,
        name="lq-exp",
        primary_metric="thumbs",
        variants=[
            {"deployment": "lq-champion", "weight": 0.5},
            {"deployment": "lq-challenger", "weight": 0.5},
        ],
    )
    return {
        "project": project,
        "champion": champion,
        "challenger": challenger,
        "variant": experiment.variants.get(deployment=champion),
        "experiment": experiment,
    }


@pytest.mark.django_db
def test_the_sample_is_stratified_by_variant_and_week_and_never_takes_a_request_twice(served):
    champion = served["champion"]
    for n in range(12):  # week 45: 12 direct calls, 6 through the experiment
        _log(champion, n, MONDAY + timedelta(hours=n))
    for n in range(12, 18):
        _log(champion, n, MONDAY, experiment=served["experiment"], variant=served["variant"])
    for n in range(18, 21):  # week 46: 3 direct calls, and one that failed
        _log(champion, n, MONDAY + timedelta(days=7))
    _log(champion, 99, MONDAY + timedelta(days=7), error="engine down")
    LoopPolicy.objects.create(project=served["project"], live_quality_sample_size=5)

    sample = live_quality_sample_draw(deployment=champion, seed=3)

    assert sample.strata == {"direct|2026-W45": 5, "lq-exp:champion|2026-W45": 5,
                             "direct|2026-W46": 3}  # fmt: skip
    assert sample.items.count() == 13
    assert not sample.items.exclude(request__error="").exists()  # a failed request is no answer
    again = live_quality_sample_draw(deployment=champion, size=7)  # tops each stratum up to 7
    assert again.strata == {"direct|2026-W45": 2, "lq-exp:champion|2026-W45": 1}
    drawn = list(LiveQualityItem.objects.values_list("request_id", flat=True))
    assert len(drawn) == len(set(drawn)) == 16


@pytest.mark.django_db
def test_a_sample_size_out_of_range_is_refused_by_name_and_draws_nothing(served):
    _log(served["champion"], 1, MONDAY)
    for bad in (0, 10_001, 2.5, "ten"):
        with pytest.raises(AssayError, match="live_quality_sample_size"):
            live_quality_sample_draw(deployment=served["champion"], size=bad)
    assert not LiveQualitySample.objects.exists() and not LiveQualityItem.objects.exists()


@pytest.mark.django_db
def test_accuracy_per_deployment_and_week_with_intervals(served):
    champion = served["champion"]
    # week 45: 8 of 10 answers right; week 46: 5 of 10 (the drop the page should show)
    for n in range(10):
        _log(champion, n, MONDAY, label="spam" if n < 4 else "ham")
        _log(champion, 100 + n, MONDAY + timedelta(days=7), label="ham")
    live_quality_sample_draw(deployment=champion, size=50)
    gold = {
        "2026-W45": ["spam"] * 4 + ["ham"] * 4 + ["spam"] * 2,
        "2026-W46": ["spam"] * 5 + ["ham"] * 5,
    }
    for week, labels in gold.items():
        items = LiveQualityItem.objects.filter(week=week).order_by(
            "request__created_at", "request_id"
        )
        for item, label in zip(items, labels, strict=True):
            live_quality_item_label(item=item, label=label, by="annotator@assay.local")
    with pytest.raises(AssayError, match="not one of ham, spam"):
        live_quality_item_label(item=LiveQualityItem.objects.first(), label="eggs", by="x")

    weeks = live_quality_weeks(champion)

    assert [w["week"] for w in weeks] == ["2026-W45", "2026-W46"]
    first, second = weeks
    assert (first["n"], first["sampled"]) == (10, 10)
    assert first["accuracy"]["value"] == pytest.approx(0.8)
    assert second["accuracy"]["value"] == pytest.approx(0.5)
    assert second["accuracy"]["low"] < 0.5 < second["accuracy"]["high"]
    assert second["macro_f1"]["value"] == pytest.approx(
        f1_score(["spam"] * 5 + ["ham"] * 5, ["ham"] * 10, average="macro", zero_division=0)
    )
    (row,) = live_quality_for_project(served["project"])
    assert row["deployment"] == champion and row["metric"] == "accuracy"


# -- the round trip through the real Label Studio ----------------------------------------


@pytest.mark.slow
@pytest.mark.django_db
def test_the_sample_goes_to_label_studio_prefilled_and_its_labels_come_back(
    served, ls_client, label_studio_server, settings
):
    settings.LABEL_STUDIO_URL = label_studio_server.url
    settings.LABEL_STUDIO_TOKEN = label_studio_server.token
    champion = served["champion"]
    for n in range(4):
        _log(champion, n, MONDAY, label="ham")
    sample = live_quality_sample_draw(deployment=champion, size=3, seed=0)
    try:
        assert live_quality_push(sample=sample) == 3
        assert live_quality_push(sample=sample) == 0  # pushed once
        ls_project_id = LoopPolicy.objects.get(project=served["project"]).live_quality_ls_project_id
        tasks = {t.external_id: t for t in ls_client.tasks_iter(ls_project_id)}
        items = list(sample.items.order_by("pk"))
        assert set(tasks) == {item.external_id for item in items}
        (prediction,) = ls_client.task_predictions(items[0].ls_task_id)
        assert prediction.result[0]["value"]["choices"] == ["ham"]  # the model's answer

        ls_client.annotation_create(
            items[0].ls_task_id, result=classification_result("spam", to_name="text")
        )
        ls_client.annotation_create(
            items[1].ls_task_id, result=classification_result("ham", to_name="text")
        )
        ls_client.annotation_create(
            items[2].ls_task_id,
            was_cancelled=True,
            result=classification_result("spam", to_name="text"),
        )
        report = live_quality_pull(project=served["project"])
        again = live_quality_pull(project=served["project"])
    finally:
        if ls_id := LoopPolicy.objects.get(project=served["project"]).live_quality_ls_project_id:
            ls_client.project_delete(ls_id)

    assert (report["labelled"], report["skipped"]) == (2, 1)
    assert (again["labelled"], again["unchanged"]) == (0, 2)
    gold = dict(LiveQualityItem.objects.values_list("pk", "gold"))
    assert [gold[i.pk] for i in items] == ["spam", "ham", ""]
    (week,) = live_quality_weeks(champion)
    assert (week["n"], week["sampled"]) == (2, 3)
    assert week["accuracy"]["value"] == pytest.approx(0.5)


# -- the page and the API -----------------------------------------------------------------


def _labelled_weeks(champion) -> None:
    for n in range(10):
        _log(champion, n, MONDAY, label="spam" if n < 8 else "ham")
        _log(champion, 100 + n, MONDAY + timedelta(days=7), label="ham")
    live_quality_sample_draw(deployment=champion, size=50)
    for item in LiveQualityItem.objects.all():
        live_quality_item_label(item=item, label="spam", by="annotator@assay.local")


@pytest.mark.django_db
def test_the_monitoring_page_shows_live_quality_per_week_with_its_band(served, client):
    from tests.factories import UserFactory

    _labelled_weeks(served["champion"])
    client.force_login(UserFactory(is_superuser=True))

    html = client.get(f"/projects/{served['project'].pk}/loop/").content.decode()

    assert 'id="live-quality"' in html and 'data-deployment="lq-champion"' in html
    assert 'data-week="2026-W45"' in html and 'data-week="2026-W46"' in html
    assert ">0.800<" in html and ">0.000<" in html  # accuracy of each week
    assert 'data-chart="live-quality"' in html and 'data-band="accuracy"' in html
    assert 'id="draw-live-quality"' in html


@pytest.mark.django_db
def test_the_api_gives_the_weeks_and_refuses_a_bad_sample_size(served, client):
    from curation.services.api_tokens import api_token_create
    from tests.factories import UserFactory

    _labelled_weeks(served["champion"])
    _token, key = api_token_create(user=UserFactory(is_superuser=True), name="lq")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    base = f"/api/projects/{served['project'].pk}/loop"

    (row,) = client.get(f"{base}/live-quality", **headers).json()
    before = LiveQualityItem.objects.count()
    bad = client.post(f"{base}/live-quality/samples", {"deployment": "lq-champion", "size": 0},
                      content_type="application/json", **headers)  # fmt: skip
    policy = client.patch(f"{base}/policy", {"live_quality_sample_size": 20_000},
                          content_type="application/json", **headers)  # fmt: skip

    assert row["deployment"] == "lq-champion" and row["metric"] == "accuracy"
    assert [w["accuracy"]["value"] for w in row["weeks"]] == [pytest.approx(0.8), 0.0]
    assert bad.status_code == 400 and "live_quality_sample_size" in bad.json()["detail"]
    assert policy.status_code == 400 and "live_quality_sample_size" in policy.json()["detail"]
    assert LiveQualityItem.objects.count() == before
    assert LiveQualitySample.objects.count() == 1
