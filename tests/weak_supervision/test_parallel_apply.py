"""Python LFs applied in worker processes: the same label matrix as Snorkel's
``PandasLFApplier`` on the whole input, rows in order, a failing LF named with its row, and
small inputs kept in this process."""

import random
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from django.test import override_settings
from snorkel.labeling import PandasLFApplier

from curation.models import RunStatus
from curation.services.runs import run_create, run_execute
from curation.weak_supervision.core import parallel_apply
from curation.weak_supervision.core.parallel_apply import (
    apply_python_lfs_in_processes,
    python_lf_matrix,
    worker_count,
)
from curation.weak_supervision.core.python_lfs import (
    PythonLFError,
    PythonLFRowError,
    load_python_lfs,
)
from curation.weak_supervision.models import LFApplication
from curation.weak_supervision.selectors.applications import application_matrix
from curation.weak_supervision.services.functions import lf_module_set

LABELS = ["ham", "spam"]

MODULE = """
from snorkel.labeling import labeling_function as snorkel_lf
from snorkel.preprocess import preprocessor

from curation.weak_supervision.core.python_lfs import labeling_function


@labeling_function(label="spam")
def has_link(x):
    return "http" in x.text


@labeling_function()
def short_is_ham(x):
    return "ham" if len(x.text) < 12 else None


@labeling_function()
def fragile(x):
    if x.text == "boom":
        raise ValueError("cannot read boom")
    return None


@preprocessor(memoize=True)
def lowered(x):
    x.lowered = x.text.lower()
    return x


@snorkel_lf(pre=[lowered], resources={"words": frozenset({"subscribe", "channel"})})
def channel_words(x, words):
    return 1 if words & set(x.lowered.split()) else -1


@snorkel_lf()
def author_is_bot(x):
    return 1 if x.author.startswith("bot") else -1
"""

WORDS = "check out my channel please subscribe great song love it http://x.example wow".split()


@pytest.fixture
def lf_module(tmp_path, monkeypatch):
    """Writes ``assay_parallel_lfs_<n>.py`` on sys.path; returns (name, write)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"assay_parallel_lfs_{abs(hash(tmp_path)) % 10**8}"

    def write(source: str) -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        sys.modules.pop(name, None)

    write(MODULE)
    yield name, write
    sys.modules.pop(name, None)


def make_rows(count: int, *, seed: int = 0) -> dict[str, list[str]]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(1, 6))) for _ in range(count)]
    authors = [rng.choice(["bot_7", "ann", "bob", "bot_x"]) for _ in range(count)]
    return {"text": texts, "author": authors}


def snorkel_matrix(lfs, rows) -> np.ndarray:
    return PandasLFApplier([lf.snorkel_lf for lf in lfs]).apply(
        pd.DataFrame(rows), progress_bar=False
    )


def test_processes_give_pandas_lf_appliers_matrix(lf_module):
    name, _ = lf_module
    lfs = load_python_lfs(name, label_set=LABELS)
    rows = make_rows(3000)
    progress = []
    matrix = apply_python_lfs_in_processes(
        lfs,
        rows,
        module_path=name,
        label_set=LABELS,
        workers=2,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    expected = snorkel_matrix(lfs, rows)
    assert matrix.shape == (3000, 5) and matrix.dtype == expected.dtype
    assert np.array_equal(matrix, expected)
    columns = {lf.name: j for j, lf in enumerate(lfs)}
    for lf_name in ["has_link", "short_is_ham", "channel_words", "author_is_bot"]:
        votes = matrix[:, columns[lf_name]]
        assert (votes == -1).any() and (votes >= 0).any(), f"{lf_name} never votes or abstains"
    assert [total for _, total in progress] == [3000] * len(progress) and len(progress) > 1
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert progress[-1] == (3000, 3000)


def test_rows_keep_their_order_with_uneven_blocks(lf_module, monkeypatch):
    name, _ = lf_module
    lfs = load_python_lfs(name, label_set=LABELS)
    monkeypatch.setattr(parallel_apply, "MIN_BLOCK_ROWS", 1)
    rows = make_rows(1999, seed=1)
    bounds = parallel_apply.block_bounds(1999, 3)
    assert len(bounds) == 12 and bounds[-1][1] - bounds[-1][0] < bounds[0][1] - bounds[0][0]
    matrix = python_lf_matrix(lfs, rows, module_path=name, label_set=LABELS, workers=3, min_rows=1)
    assert np.array_equal(matrix, snorkel_matrix(lfs, rows))


def test_an_lf_raising_in_a_worker_is_named_with_its_row(lf_module):
    name, _ = lf_module
    lfs = load_python_lfs(name, label_set=LABELS)
    rows = make_rows(3000)
    rows["text"][2345] = "boom"
    with pytest.raises(PythonLFRowError) as raised:
        python_lf_matrix(lfs, rows, module_path=name, label_set=LABELS, workers=2, min_rows=1)
    error = raised.value
    assert (error.lf_name, error.row) == ("fragile", 2345)
    line = MODULE.splitlines().index('        raise ValueError("cannot read boom")') + 1
    assert f"ValueError: cannot read boom ({name}.py, line {line})" in str(error)


def test_an_lf_module_edited_during_the_apply_is_refused(lf_module):
    name, write = lf_module
    lfs = load_python_lfs(name, label_set=LABELS)
    write(MODULE.replace('"http" in x.text', '"https" in x.text'))
    with pytest.raises(PythonLFError, match=f"'{name}' changed while it was being applied"):
        python_lf_matrix(
            lfs, make_rows(2000), module_path=name, label_set=LABELS, workers=2, min_rows=1
        )


def test_a_worker_that_dies_is_reported_not_hung(lf_module):
    name, write = lf_module
    write(
        MODULE
        + textwrap.dedent(
            """
            @labeling_function()
            def exits(x):
                if x.text == "exit":
                    import os
                    os._exit(3)
                return None
            """
        )
    )
    lfs = load_python_lfs(name, label_set=LABELS)
    rows = make_rows(2000)
    rows["text"][1500] = "exit"
    with pytest.raises(PythonLFError, match=f"A worker process applying the LFs of '{name}' died"):
        python_lf_matrix(lfs, rows, module_path=name, label_set=LABELS, workers=2, min_rows=1)


@pytest.mark.slow
def test_spawned_workers_import_the_module_by_its_path(lf_module):
    name, _ = lf_module
    lfs = load_python_lfs(name, label_set=LABELS)
    rows = make_rows(2000, seed=2)
    matrix = apply_python_lfs_in_processes(
        lfs, rows, module_path=name, label_set=LABELS, workers=2, start_method="spawn"
    )
    assert np.array_equal(matrix, snorkel_matrix(lfs, rows))


class _NoProcesses:
    def __init__(self, *args, **kwargs) -> None:
        raise AssertionError("a process pool was started")


def test_small_inputs_and_one_worker_stay_in_this_process(lf_module, monkeypatch):
    name, _ = lf_module
    lfs = load_python_lfs(name, label_set=LABELS)
    monkeypatch.setattr(parallel_apply, "ProcessPoolExecutor", _NoProcesses)
    small = make_rows(500)
    matrix = python_lf_matrix(lfs, small, module_path=name, label_set=LABELS, workers=4)
    assert np.array_equal(matrix, snorkel_matrix(lfs, small))
    large = make_rows(3000)
    progress = []
    matrix = python_lf_matrix(
        lfs,
        large,
        module_path=name,
        label_set=LABELS,
        workers=1,
        min_rows=10,
        on_progress=lambda done, total: progress.append(done),
    )
    assert np.array_equal(matrix, snorkel_matrix(lfs, large))
    assert progress == [1000, 2000, 3000]  # in-process blocks still report progress


def test_the_default_uses_one_process_per_cpu_and_none_on_a_single_cpu(monkeypatch):
    monkeypatch.setattr(parallel_apply, "available_cpus", lambda: 1)
    assert worker_count(10**6, workers=0) == 1
    assert worker_count(10**6, workers=3) == 3  # an explicit count is the operator's choice
    monkeypatch.setattr(parallel_apply, "available_cpus", lambda: 8)
    assert worker_count(10**6, workers=0) == 8
    assert worker_count(parallel_apply.DEFAULT_PARALLEL_MIN_ROWS - 1, workers=0) == 1
    with pytest.raises(ValueError, match="workers must be"):
        worker_count(10**6, workers=-2)


# Through the service: a project's LF module, applied in processes once it is large enough.


def _apply(project):
    run = run_create(kind="lf_apply", target=project, project=project)
    return run_execute(run.pk)


@pytest.fixture
def project_with_module(spam_project, lf_module, monkeypatch):
    """The spam project (12 rows, fields text and author) on the LF module; blocks of 5 rows,
    and a record of the process pools started."""
    name, _ = lf_module
    spam_project.field_schema = ["text", "author"]
    spam_project.save(update_fields=["field_schema"])
    spam_project.examples.filter(external_id__in=["c1", "c4"]).update(
        fields={"text": "bot says hi", "author": "bot_9"}
    )
    lf_module_set(project=spam_project, module_path=name)
    monkeypatch.setattr(parallel_apply, "MIN_BLOCK_ROWS", 5)
    pools = []

    class RecordedPool(parallel_apply.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs) -> None:
            pools.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(parallel_apply, "ProcessPoolExecutor", RecordedPool)
    return spam_project, name, pools


def _apply(project):
    run = run_create(kind="lf_apply", target=project, project=project)
    return run_execute(run.pk)


def test_apply_in_processes_stores_the_same_matrix_as_in_process(project_with_module):
    project, _, pools = project_with_module
    with override_settings(LF_WORKERS=1):
        one = _apply(project)
    assert pools == []
    with override_settings(LF_WORKERS=2, LF_PARALLEL_MIN_ROWS=10):
        two = _apply(project)
    assert pools == [2]
    assert one.status == two.status == RunStatus.SUCCEEDED, (one.error, two.error)
    ids_one, matrix_one = application_matrix(LFApplication.objects.get(run=one))
    ids_two, matrix_two = application_matrix(LFApplication.objects.get(run=two))
    assert np.array_equal(ids_one, ids_two) and np.array_equal(matrix_one, matrix_two)
    names = LFApplication.objects.get(run=two).analysis["names"]
    bot = matrix_two[:, names.index("author_is_bot")]
    assert (bot == LABELS.index("spam")).sum() == 2


def test_a_failing_python_lf_fails_the_run_naming_the_example(project_with_module):
    project, name, pools = project_with_module
    project.examples.filter(external_id="c7").update(fields={"text": "boom", "author": "x"})
    with override_settings(LF_WORKERS=2, LF_PARALLEL_MIN_ROWS=10):
        run = _apply(project)
    assert pools == [2]
    assert run.status == RunStatus.FAILED
    assert run.error.startswith(f"Python LF 'fragile' ({name}) failed on example 'c7': ")
    assert "ValueError: cannot read boom" in run.error
    assert not LFApplication.objects.exists()
