"""Dask: Assay's adapter for data work spread over a cluster (the only module that imports
``dask``/``distributed``).

Two kinds of work go there on large projects: Python LFs, block by block (each block goes
through the same ``PandasLFApplier`` path as in one process, `parallel_apply.apply_lf_block`),
and the cross-validation folds of the label-issue check (`label_issues.fold_probabilities`).
Both results are equal to the single-process ones: blocks are stacked in row order and
every fold is fitted with the same seed on the same rows.

Where the work runs: a ``LocalCluster`` of worker processes started for the run and closed
after it (``ASSAY_DASK_WORKERS`` of them), or a running cluster at ``ASSAY_DASK_SCHEDULER``
(``tcp://host:8786``) whose workers run the same code (the Assay image, with any Python LF
module importable by its dotted path). Work is routed here when a run asks for it, or when
the project has at least ``ASSAY_DASK_MIN_ROWS`` rows (0: only when asked).
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from distributed import Client, LocalCluster, as_completed
from distributed.scheduler import KilledWorker

from curation.weak_supervision.core.parallel_apply import (
    ProgressCallback,
    apply_lf_block,
    lf_blocks,
)
from curation.weak_supervision.core.python_lfs import LoadedLF, PythonLFError


@dataclass(frozen=True)
class DaskOptions:
    """Where Dask work runs and from what size it is routed there."""

    scheduler: str = ""
    """Address of a running scheduler; empty: a local cluster started for the run."""
    workers: int = 2
    """Worker processes of the local cluster (one thread each)."""
    min_rows: int = 0
    """Projects with at least this many rows use Dask without being asked; 0: never."""


def dask_options() -> DaskOptions:
    """The options from Django settings (``DASK_SCHEDULER``, ``DASK_WORKERS``,
    ``DASK_MIN_ROWS``)."""
    from django.conf import settings

    return DaskOptions(
        scheduler=settings.DASK_SCHEDULER,
        workers=settings.DASK_WORKERS,
        min_rows=settings.DASK_MIN_ROWS,
    )


def dask_wanted(n_rows: int, *, asked: bool | None, options: DaskOptions) -> bool:
    """Whether work over ``n_rows`` rows goes to Dask: as ``asked`` when a run says, else
    by size."""
    if asked is not None:
        return asked
    return options.min_rows > 0 and n_rows >= options.min_rows


@contextmanager
def dask_client(options: DaskOptions) -> Iterator[Client]:
    """A client of the configured scheduler, or of a local cluster of worker processes
    that is closed on exit."""
    if options.scheduler:
        with Client(options.scheduler, set_as_default=False) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=max(1, options.workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def worker_total(client: Client) -> int:
    return max(1, len(client.scheduler_info(n_workers=-1)["workers"]))


def lf_matrix_on_dask(
    client: Client,
    lfs: list[LoadedLF],
    rows: dict[str, list[str]],
    *,
    module_path: str,
    label_set: list[str],
    on_progress: ProgressCallback | None = None,
) -> np.ndarray:
    """The label matrix of Python ``lfs`` over ``rows``, equal to ``PandasLFApplier``'s,
    computed block by block on the cluster. An LF raising on a row raises
    `PythonLFRowError` with the row's position, as in one process."""
    n_rows = len(next(iter(rows.values()), []))
    if not lfs or n_rows == 0:
        return np.full((n_rows, len(lfs)), -1, dtype=np.int64)
    blocks = lf_blocks(
        lfs, rows, module_path=module_path, label_set=label_set, workers=worker_total(client)
    )
    futures = client.map(apply_lf_block, blocks, pure=False)
    first_rows = {
        future.key: block.first_row for future, block in zip(futures, blocks, strict=True)
    }
    results: dict[int, np.ndarray] = {}
    done_rows = 0
    try:
        for future in as_completed(futures, loop=client.loop):
            matrix = future.result()  # raises what the worker raised
            results[first_rows[future.key]] = matrix
            done_rows += len(matrix)
            if on_progress is not None:
                on_progress(done_rows, n_rows)
    except KilledWorker as exc:
        raise PythonLFError(
            f"Dask workers applying the LFs of '{module_path}' kept dying (out of memory, or "
            "an LF ended the process); apply without Dask to see the error."
        ) from exc
    finally:
        client.cancel([future for future in futures if not future.done()])
    return np.vstack([results[block.first_row] for block in blocks])


FoldFunction = Callable[..., np.ndarray]


def fold_runner(client: Client):
    """A fold runner for `label_issues.out_of_sample_probabilities`: each fold is a task;
    the features and labels are sent to every worker once."""

    def run_folds(
        fit_fold: FoldFunction, features, labels, splits: Sequence[tuple], **options
    ) -> list[np.ndarray]:
        shared_features, shared_labels = client.scatter(
            [features, labels], broadcast=True, hash=False
        )
        futures = [
            client.submit(
                fit_fold, shared_features, shared_labels, train, test, pure=False, **options
            )
            for train, test in splits
        ]
        try:
            return client.gather(futures)
        finally:
            client.cancel([future for future in futures if not future.done()])

    return run_folds
