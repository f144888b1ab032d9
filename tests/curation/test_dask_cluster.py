"""Large-project data work on Dask: on a 2-worker local cluster of real worker processes,
Python LFs give the label matrix of one process, and the label-issue folds give the same
out-of-sample probabilities; runs are routed there by size or when asked, and a
scheduler address in the settings is used instead of a cluster of their own."""

import os
import random
import sys
import textwrap
from io import StringIO

import numpy as np
import pytest
from distributed import Client, LocalCluster
from django.core.management import call_command
from django.test import override_settings

from curation.integrations.dask_cluster import (
    DaskOptions,
    dask_wanted,
    fold_runner,
    lf_matrix_on_dask,
)
from curation.models import Run, RunStatus
from curation.quality.core import label_issues
from curation.quality.models import Finding, FindingKind
from curation.services.runs import run_create, run_execute
from curation.weak_supervision.core.parallel_apply import python_lf_matrix
from curation.weak_supervision.core.python_lfs import PythonLFRowError, load_python_lfs
from curation.weak_supervision.models import LFApplication
from curation.weak_supervision.selectors.applications import application_matrix
from curation.weak_supervision.services.functions import lf_module_set
from tests.factories import ExampleFactory, ProjectFactory, UserFactory
from tests.quality.conftest import quality_project  # noqa: F401 - a fixture used below
from tests.weak_supervision.test_parallel_apply import LABELS, MODULE, make_rows, snorkel_matrix

MODULE_NAME = "assay_dask_test_lfs"

# Starting the workers takes 5-15 s on a busy 2-core machine; each of them imports Snorkel.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two worker processes (one thread each) shared by this module's tests. The LF module
    is written, and put on sys.path, before the workers start, as a deployment ships it
    in the image."""
    folder = tmp_path_factory.mktemp("dask-code")
    (folder / f"{MODULE_NAME}.py").write_text(textwrap.dedent(MODULE))
    sys.path.insert(0, str(folder))
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        Client(local, set_as_default=False) as client,
    ):
        yield local, client
    sys.path.remove(str(folder))
    sys.modules.pop(MODULE_NAME, None)


def test_the_cluster_runs_work_in_two_other_processes(cluster):
    _, client = cluster
    pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids


def test_label_matrix_on_the_cluster_equals_the_single_process_one(cluster):
    _, client = cluster
    lfs = load_python_lfs(MODULE_NAME, label_set=LABELS)
    rows = make_rows(3000, seed=3)
    progress = []
    matrix = lf_matrix_on_dask(
        client,
        lfs,
        rows,
        module_path=MODULE_NAME,
        label_set=LABELS,
        on_progress=lambda done, total: progress.append(done),
    )
    one_process = python_lf_matrix(lfs, rows, module_path=MODULE_NAME, label_set=LABELS, workers=1)
    assert matrix.shape == (3000, 5)
    assert np.array_equal(matrix, one_process)
    assert np.array_equal(matrix, snorkel_matrix(lfs, rows))
    assert (matrix >= 0).any() and (matrix == -1).any()
    assert len(progress) > 1 and progress == sorted(progress) and progress[-1] == 3000


def test_an_lf_failing_on_a_worker_is_named_with_its_row(cluster):
    _, client = cluster
    lfs = load_python_lfs(MODULE_NAME, label_set=LABELS)
    rows = make_rows(3000)
    rows["text"][2345] = "boom"
    with pytest.raises(PythonLFRowError) as failure:
        lf_matrix_on_dask(client, lfs, rows, module_path=MODULE_NAME, label_set=LABELS)
    assert (failure.value.lf_name, failure.value.row) == ("fragile", 2345)
    assert "cannot read boom" in str(failure.value.cause)


def _noisy_texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    words = {
        "ham": "lunch meeting family weekend dinner garden movie friends".split(),
        "spam": "winner prize claim free cash offer urgent click".split(),
        "news": "election minister budget court report council vote".split(),
    }
    texts, labels = [], []
    for _ in range(n):
        label = rng.choice(sorted(words))
        texts.append(" ".join(rng.choices(words[label] + words["ham"][:2], k=10)))
        labels.append(rng.choice(sorted(words)) if rng.random() < 0.08 else label)
    return texts, labels


def test_cross_validation_folds_on_the_cluster_give_the_same_probabilities(cluster):
    _, client = cluster
    texts, labels = _noisy_texts(600, seed=1)
    classes, encoded = label_issues.encode_labels(labels)
    options = dict(n_classes=len(classes), model="tfidf", folds=5, seed=4)
    here = label_issues.out_of_sample_probabilities(texts, encoded, **options)
    on_dask = label_issues.out_of_sample_probabilities(
        texts, encoded, **options, run_folds=fold_runner(client)
    )
    assert np.array_equal(here, on_dask)
    assert np.allclose(on_dask.sum(axis=1), 1.0)
    issues_here = label_issues.find_label_issues(texts, labels, seed=4)
    issues_dask = label_issues.find_label_issues(
        texts, labels, seed=4, run_folds=fold_runner(client)
    )
    assert issues_here == issues_dask and len(issues_dask) > 10


def test_routing_by_size_or_when_asked():
    options = DaskOptions(min_rows=1000)
    assert not dask_wanted(999, asked=None, options=options)
    assert dask_wanted(1000, asked=None, options=options)
    assert dask_wanted(5, asked=True, options=options)
    assert not dask_wanted(10**6, asked=False, options=options)
    assert not dask_wanted(10**9, asked=None, options=DaskOptions(min_rows=0))


@pytest.fixture
def lf_project(db):
    project = ProjectFactory(label_set=LABELS, field_schema=["text", "author"])
    rows = make_rows(60, seed=9)
    for n, (text, author) in enumerate(zip(rows["text"], rows["author"], strict=True)):
        ExampleFactory(
            project=project, external_id=f"r{n}", fields={"text": text, "author": author}
        )
    lf_module_set(project=project, module_path=MODULE_NAME)
    return project


def _run(kind, target, project, params=None):
    run = run_create(kind=kind, target=target, project=project, params=params or {})
    return run_execute(run.pk)


def test_lf_apply_of_a_large_project_goes_to_the_configured_scheduler(cluster, lf_project):
    local, _ = cluster
    with override_settings(DASK_SCHEDULER=local.scheduler_address, DASK_MIN_ROWS=50):
        on_dask = _run("lf_apply", lf_project, lf_project)
    with override_settings(DASK_MIN_ROWS=0, LF_WORKERS=1):
        in_process = _run("lf_apply", lf_project, lf_project)
    assert on_dask.status == in_process.status == RunStatus.SUCCEEDED, on_dask.error
    assert f"on Dask ({local.scheduler_address})" in on_dask.log
    assert "Dask" not in in_process.log
    ids_dask, matrix_dask = application_matrix(LFApplication.objects.get(run=on_dask))
    ids_here, matrix_here = application_matrix(LFApplication.objects.get(run=in_process))
    assert np.array_equal(ids_dask, ids_here) and np.array_equal(matrix_dask, matrix_here)


def test_a_small_project_stays_local_unless_the_run_asks(cluster, lf_project):
    local, _ = cluster
    with override_settings(DASK_SCHEDULER=local.scheduler_address, DASK_MIN_ROWS=10_000):
        small = _run("lf_apply", lf_project, lf_project)
        asked = _run("lf_apply", lf_project, lf_project, params={"dask": True})
    assert small.status == asked.status == RunStatus.SUCCEEDED, asked.error
    assert "Dask" not in small.log and "on Dask" in asked.log


def _flagged(run) -> set[str]:
    findings = Finding.objects.filter(quality_check__run=run, kind=FindingKind.LABEL_ISSUE)
    return set(findings.values_list("examples__external_id", flat=True))


def test_quality_check_asked_for_dask_finds_the_same_label_issues(
    cluster,
    quality_project,  # noqa: F811 - the fixture imported above
):
    local, _ = cluster
    project = quality_project
    options = {"checks": ["label_issues"], "model": "tfidf", "folds": 3, "seed": 0}
    with override_settings(DASK_SCHEDULER=local.scheduler_address):
        on_dask = _run("quality_check", project, project, {**options, "dask": True})
        flagged_on_dask = _flagged(on_dask)
        here = _run("quality_check", project, project, {**options, "dask": False})
    assert on_dask.status == here.status == RunStatus.SUCCEEDED, (on_dask.error, here.error)
    assert "label-issue folds on Dask" in on_dask.log and "Dask" not in here.log
    assert _flagged(here) == flagged_on_dask
    assert {"flipped-0", "flipped-1"} <= flagged_on_dask


def test_the_commands_ask_for_dask_with_a_flag(cluster, lf_project, quality_project):  # noqa: F811 - the fixture imported above
    local, _ = cluster
    UserFactory(is_superuser=True)  # whom the commands act as
    with override_settings(DASK_SCHEDULER=local.scheduler_address, DASK_MIN_ROWS=10**9):
        call_command("ws_apply", str(lf_project.pk), "--dask", "--quiet", stdout=StringIO())
        call_command(
            "quality_check",
            str(quality_project.pk),
            "--check",
            "label_issues",
            "--dask",
            verbosity=0,
            stdout=StringIO(),
        )
    lf_run = Run.objects.get(kind="lf_apply")
    check_run = Run.objects.get(kind="quality_check")
    assert lf_run.status == check_run.status == RunStatus.SUCCEEDED, (lf_run.error, check_run.error)
    assert "on Dask" in lf_run.log and "on Dask" in check_run.log
