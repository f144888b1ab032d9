"""Python LFs over large inputs in worker processes, with the label matrix Snorkel's
``PandasLFApplier`` gives on the whole input.

Rows are cut into consecutive blocks; each block goes through ``PandasLFApplier`` (via
`apply_python_lfs`) in a worker process, and the blocks' matrices are stacked in row
order. Workers do not receive the LFs themselves (a closure does not pickle): they import
the LF module by its dotted path, as the parent did, and refuse to run if a function's
source hash differs from the one the parent loaded (the file changed in between). That
works with any start method; on Linux the default is ``fork``, whose workers start in
milliseconds because the parent's imports (pandas, Snorkel) come with them, where
``spawn`` or ``forkserver`` spend seconds importing Snorkel again.

Small inputs, and machines with one CPU, stay in this process: below
`DEFAULT_PARALLEL_MIN_ROWS` rows starting processes costs more than it saves.
"""

import math
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from .python_lfs import LoadedLF, PythonLFError, apply_python_lfs, load_python_lfs

DEFAULT_PARALLEL_MIN_ROWS = 10_000
"""``PandasLFApplier`` takes roughly 0.1-0.2 ms per row for a handful of LFs, so 10,000 rows
are 1-2 s in one process, against about 0.1 s to fork two workers."""

MIN_BLOCK_ROWS = 1_000
MAX_BLOCK_ROWS = 25_000
BLOCKS_PER_WORKER = 4
"""Several blocks per worker keep the workers evenly busy and the progress bar moving."""

ProgressCallback = Callable[[int, int], None]
"""``on_progress(rows_done, rows_total)``, called after each block."""


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(n_rows: int, *, workers: int = 0, min_rows: int = DEFAULT_PARALLEL_MIN_ROWS):
    """Processes to apply ``n_rows`` rows with; 1 means in this process.

    ``workers`` is the configured number: 0 for one per available CPU, 1 to never start
    processes, N for exactly N (the operator's choice, not capped). Inputs under
    ``min_rows`` rows always stay in this process.
    """
    if workers < 0:
        raise ValueError(f"workers must be 0 (one per CPU), 1 (no processes) or more: {workers}")
    if n_rows < max(min_rows, 2):
        return 1
    return workers or available_cpus()


def block_bounds(n_rows: int, workers: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n_rows)`` in order."""
    size = math.ceil(n_rows / (workers * BLOCKS_PER_WORKER)) if n_rows else 1
    size = min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, size))
    return [(start, min(start + size, n_rows)) for start in range(0, n_rows, size)]


def _slice(rows: dict[str, list[str]], start: int, stop: int) -> dict[str, list[str]]:
    return {name: values[start:stop] for name, values in rows.items()}


@dataclass(frozen=True)
class LFBlock:
    """What a worker needs for one block: where to load the LFs from, which ones (with the
    source hashes the parent saw), and the rows. It pickles small, so any executor (a
    process pool here, a Dask cluster in `curation.integrations.dask_cluster`) can ship it."""

    module_path: str
    label_set: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    first_row: int
    rows: dict[str, list[str]]


_worker_lfs: dict[tuple, list[LoadedLF]] = {}


def _lfs_in_worker(block: LFBlock) -> list[LoadedLF]:
    """The block's LFs, imported once per worker process."""
    key = (block.module_path, block.label_set, block.sources)
    if key not in _worker_lfs:
        loaded = {
            lf.name: lf
            for lf in load_python_lfs(block.module_path, label_set=list(block.label_set))
        }
        for name, sha256 in block.sources:
            if name not in loaded or loaded[name].source_sha256 != sha256:
                raise PythonLFError(
                    f"LF module '{block.module_path}' changed while it was being applied "
                    f"('{name}' is no longer the code that was loaded); apply again."
                )
        _worker_lfs[key] = [loaded[name] for name, _ in block.sources]
    return _worker_lfs[key]


def apply_lf_block(block: LFBlock):
    """The label matrix of one block, in whichever process runs it."""
    return apply_python_lfs(_lfs_in_worker(block), block.rows, first_row=block.first_row)


def lf_blocks(
    lfs: list[LoadedLF],
    rows: dict[str, list[str]],
    *,
    module_path: str,
    label_set: list[str],
    workers: int,
) -> list[LFBlock]:
    """``rows`` cut into consecutive blocks for ``workers`` executors, in row order."""
    n_rows = len(next(iter(rows.values()), []))
    sources = tuple((lf.name, lf.source_sha256) for lf in lfs)
    return [
        LFBlock(module_path, tuple(label_set), sources, start, _slice(rows, start, stop))
        for start, stop in block_bounds(n_rows, workers)
    ]


def _default_start_method() -> str | None:
    return "fork" if sys.platform.startswith("linux") else None


def apply_python_lfs_in_processes(
    lfs: list[LoadedLF],
    rows: dict[str, list[str]],
    *,
    module_path: str,
    label_set: list[str],
    workers: int,
    start_method: str | None = None,
    on_progress: ProgressCallback | None = None,
):
    """The label matrix of ``lfs`` (loaded from ``module_path`` for ``label_set``) over
    ``rows``, computed block by block in ``workers`` processes.

    An LF raising on a row raises `PythonLFRowError` with the row's position in ``rows``;
    the blocks not started yet are cancelled.
    """
    import numpy as np

    n_rows = len(next(iter(rows.values()), []))
    if not lfs or n_rows == 0:
        return np.full((n_rows, len(lfs)), -1, dtype=np.int64)
    blocks = lf_blocks(lfs, rows, module_path=module_path, label_set=label_set, workers=workers)
    context = multiprocessing.get_context(start_method or _default_start_method())
    results: dict[int, np.ndarray] = {}
    done_rows = 0
    with ProcessPoolExecutor(max_workers=min(workers, len(blocks)), mp_context=context) as pool:
        futures = {pool.submit(apply_lf_block, block): block.first_row for block in blocks}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    matrix = future.result()  # raises what the worker raised
                    results[futures[future]] = matrix
                    done_rows += len(matrix)
                    if on_progress is not None:
                        on_progress(done_rows, n_rows)
        except BrokenProcessPool as exc:
            raise PythonLFError(
                f"A worker process applying the LFs of '{module_path}' died (out of memory, "
                "or an LF ended the process); set ASSAY_LF_WORKERS=1 to apply them in one "
                "process and see the error."
            ) from exc
        finally:
            for future in pending:
                future.cancel()
    return np.vstack([results[block.first_row] for block in blocks])


def python_lf_matrix(
    lfs: list[LoadedLF],
    rows: dict[str, list[str]],
    *,
    module_path: str,
    label_set: list[str],
    workers: int = 0,
    min_rows: int = DEFAULT_PARALLEL_MIN_ROWS,
    start_method: str | None = None,
    on_progress: ProgressCallback | None = None,
):
    """The label matrix of Python LFs, equal to ``PandasLFApplier(lfs).apply(rows)``: in
    worker processes when `worker_count` says it pays, else in this process block by
    block (so progress still advances on a large input with one CPU)."""
    import numpy as np

    n_rows = len(next(iter(rows.values()), []))
    count = worker_count(n_rows, workers=workers, min_rows=min_rows)
    if lfs and count > 1:
        return apply_python_lfs_in_processes(
            lfs,
            rows,
            module_path=module_path,
            label_set=label_set,
            workers=count,
            start_method=start_method,
            on_progress=on_progress,
        )
    blocks, done_rows = [], 0
    for start, stop in block_bounds(n_rows, 1) if lfs else []:
        blocks.append(apply_python_lfs(lfs, _slice(rows, start, stop), first_row=start))
        done_rows = stop
        if on_progress is not None:
            on_progress(done_rows, n_rows)
    if not blocks:
        return np.full((n_rows, len(lfs)), -1, dtype=np.int64)
    return np.vstack(blocks)
