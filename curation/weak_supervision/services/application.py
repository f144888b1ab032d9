"""Applying a project's LFs to all its examples: declarative LFs vectorised over whole
columns, Python LFs through Snorkel's ``PandasLFApplier`` (in worker processes on large
projects, see `core.parallel_apply`, or on a Dask cluster, see
`curation.integrations.dask_cluster`); the label matrix is stored with the LF versions that
made it, and analysed against the human labels."""

import time

import numpy as np
from django.conf import settings
from django.db import transaction

from curation.exceptions import AssayError
from curation.models import Example, Project
from curation.services.runs import Progress, SilentProgress, run_enqueue
from curation.weak_supervision.core.analysis import analyse_matrix
from curation.weak_supervision.core.declarative import (
    CompiledLF,
    LFSpecError,
    TextColumn,
    compile_spec,
)
from curation.weak_supervision.core.parallel_apply import python_lf_matrix
from curation.weak_supervision.core.python_lfs import PythonLFError, PythonLFRowError
from curation.weak_supervision.models import LabelingFunctionVersion, LFApplication, LFKind
from curation.weak_supervision.selectors.functions import (
    ProjectRows,
    project_labeling_functions,
    project_rows,
    project_vote_labels,
)


def compile_version(version: LabelingFunctionVersion, project: Project) -> CompiledLF:
    labels = project_vote_labels(project)
    if version.label not in labels:
        raise AssayError(
            f"LF '{version.labeling_function.name}' votes '{version.label}', which is no "
            f"longer a label of {project.name}; edit it."
        )
    try:
        return compile_spec(
            name=version.labeling_function.name,
            kind=version.kind,
            params=version.params,
            vote=labels.index(version.label),
            fields=project.content_fields,
        )
    except LFSpecError as exc:
        raise AssayError(f"LF '{version.labeling_function.name}': {exc}") from exc


def declarative_matrix(
    compiled: list[CompiledLF], rows: ProjectRows, progress: Progress
) -> np.ndarray:
    columns = {name: TextColumn(values) for name, values in rows.fields.items()}
    matrix = np.full((len(rows), len(compiled)), -1, dtype=np.int64)
    for j, lf in enumerate(compiled):
        matrix[lf.mask(columns), j] = lf.vote
        progress.update(10 + 60 * (j + 1) / len(compiled), f"Applied {lf.name}")
    return matrix


def _python_module(project: Project) -> str:
    setting = getattr(project, "lf_module_setting", None)
    return setting.module_path if setting is not None else ""


def _python_versions(project: Project, progress: Progress):
    module_path = _python_module(project)
    if not module_path:
        return []
    from curation.weak_supervision.services.python_functions import python_lfs_sync

    progress.log(f"Loading Python LFs from {module_path}")
    return python_lfs_sync(project=project, module_path=module_path)


def python_matrix(
    project: Project, loaded, rows: ProjectRows, progress: Progress, *, dask: bool | None = None
) -> np.ndarray:
    """The Python LFs' votes (70-90% of the progress bar): on Dask when asked (``dask``) or
    when the project is very large (``settings.DASK_MIN_ROWS``), else in worker processes
    when it is large (``LF_WORKERS``, ``LF_PARALLEL_MIN_ROWS``). An LF that raises fails
    the application with its name and the example's external id."""

    def advance(done: int, total: int) -> None:
        progress.update(70 + 20 * done / total, f"Python LFs: {done:,} of {total:,} rows")

    module_path = _python_module(project)
    label_set = project_vote_labels(project)
    try:
        if _use_dask(len(rows), dask):
            return _python_matrix_on_dask(loaded, rows, module_path, label_set, advance, progress)
        return python_lf_matrix(
            loaded,
            rows.fields,
            module_path=module_path,
            label_set=label_set,
            workers=settings.LF_WORKERS,
            min_rows=settings.LF_PARALLEL_MIN_ROWS,
            on_progress=advance,
        )
    except PythonLFRowError as exc:
        example = Example.objects.filter(pk=int(rows.example_ids[exc.row])).first()
        where = f"example '{example.external_id}'" if example else f"row {exc.row}"
        raise AssayError(
            f"Python LF '{exc.lf_name}' ({module_path}) failed on {where}: {exc.cause}"
        ) from exc
    except PythonLFError as exc:
        raise AssayError(str(exc)) from exc


def _use_dask(n_rows: int, asked: bool | None) -> bool:
    if asked is False:
        return False  # decided without importing Dask
    from curation.integrations.dask_cluster import dask_options, dask_wanted

    return dask_wanted(n_rows, asked=asked, options=dask_options())


def _python_matrix_on_dask(loaded, rows, module_path, label_set, advance, progress):
    from curation.integrations.dask_cluster import dask_client, dask_options, lf_matrix_on_dask

    options = dask_options()
    where = options.scheduler or f"a local cluster of {options.workers} processes"
    progress.log(f"Applying the Python LFs on Dask ({where})")
    with dask_client(options) as client:
        return lf_matrix_on_dask(
            client,
            loaded,
            rows.fields,
            module_path=module_path,
            label_set=label_set,
            on_progress=advance,
        )


def lf_apply(
    *, project: Project, progress: Progress | None = None, run=None, dask: bool | None = None
) -> LFApplication:
    """Apply every active LF to every example of ``project`` and store the result. Python
    LFs run on Dask when ``dask`` is True, never when False, by project size when None."""
    progress = progress or SilentProgress()
    started = time.perf_counter()
    python = _python_versions(project, progress)
    declarative = [
        lf.current
        for lf in project_labeling_functions(project, active_only=True)
        if lf.kind != LFKind.PYTHON and lf.current is not None
    ]
    if not declarative and not python:
        raise AssayError(f"{project.name} has no active labeling functions to apply.")
    progress.update(2, "Loading examples")
    rows = project_rows(project)
    if len(rows) == 0:
        raise AssayError(f"{project.name} has no examples to apply labeling functions to.")
    compiled = [compile_version(version, project) for version in declarative]
    matrix = declarative_matrix(compiled, rows, progress)
    if python:
        progress.update(70, f"Applying {len(python)} Python LFs")
        votes = python_matrix(project, [lf for lf, _ in python], rows, progress, dask=dask)
        matrix = np.hstack([matrix, votes])
    versions = [*declarative, *(version for _, version in python)]
    progress.update(90, "Analysing the label matrix")
    return _application_save(
        project=project, run=run, versions=versions, rows=rows, matrix=matrix, started=started
    )


@transaction.atomic
def _application_save(*, project, run, versions, rows, matrix, started) -> LFApplication:
    analysis = analyse_matrix(matrix, rows.gold).as_dict()
    analysis["names"] = [v.labeling_function.name for v in versions]
    return LFApplication.objects.create(
        project=project,
        run=run,
        lf_versions=[v.pk for v in versions],
        labels=project_vote_labels(project),
        example_ids=rows.example_ids.astype(np.int64).tobytes(),
        matrix=matrix.astype(np.int16).tobytes(),
        n_examples=len(rows),
        analysis=analysis,
        seconds=time.perf_counter() - started,
    )


def lf_apply_start(*, project: Project, created_by=None, dask: bool | None = None):
    """Queue an ``lf_apply`` run (one at a time per project); ``dask`` as in `lf_apply`."""
    params = {} if dask is None else {"dask": dask}
    return run_enqueue(
        kind="lf_apply", target=project, project=project, params=params, created_by=created_by
    )


def lf_apply_run_handler(run, progress) -> dict:
    application = lf_apply(
        project=run.target, progress=progress, run=run, dask=(run.params or {}).get("dask")
    )
    analysis = application.analysis
    progress.update(100, f"{len(application.lf_versions)} LFs on {application.n_examples:,} rows")
    return {
        "application_id": application.pk,
        "labeling_functions": len(application.lf_versions),
        "examples": application.n_examples,
        "coverage": round(analysis["coverage"], 4),
        "conflict": round(analysis["conflict"], 4),
    }
