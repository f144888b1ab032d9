"""Python labeling functions: a decorator that registers them in a project's module, and
the loader that collects them (Snorkel ``LabelingFunction`` objects are accepted as well).

A project's module, e.g. ``myteam.spam_lfs``::

    from curation.weak_supervision.core.python_lfs import labeling_function

    @labeling_function(label="spam")
    def mentions_my_channel(x):          # x: one row, its content fields as attributes
        return "my channel" in x.text.lower()    # truthy: vote "spam", else abstain

    @labeling_function()
    def by_length(x):                    # no label given: return a label name or None
        return "ham" if len(x.text) < 20 else None

Snorkel LFs (``@snorkel.labeling.labeling_function()``) defined at module level are picked
up too, with their preprocessors and resources; their integer votes index the project's
label set (``-1`` abstains).

`apply_python_lfs` runs LFs over one block of rows in this process; `parallel_apply`
splits large inputs into blocks for worker processes, which re-import the module by its
dotted path.
"""

import hashlib
import importlib
import inspect
import sys
import sysconfig
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path


class PythonLFError(ValueError):
    """A Python LF module cannot be loaded, or one of its LFs misbehaves."""


class PythonLFRowError(PythonLFError):
    """A Python LF raised on one row. ``row`` is the row's position in the whole input (not
    in a block), so the caller can name the example; ``cause`` says what was raised, and
    where in the user's code. Picklable, so it crosses back from a worker process."""

    def __init__(self, lf_name: str, row: int, cause: str) -> None:
        super().__init__(lf_name, row, cause)
        self.lf_name, self.row, self.cause = lf_name, row, cause

    def __str__(self) -> str:
        return f"LF '{self.lf_name}' failed on row {self.row}: {self.cause}"


@dataclass(frozen=True)
class RegisteredLF:
    name: str
    function: Callable
    label: str | None


_REGISTRY: dict[str, dict[str, RegisteredLF]] = {}


def labeling_function(*, name: str | None = None, label: str | None = None):
    """Register ``function(x)`` as a labeling function of the module it is defined in."""

    def register(function: Callable) -> Callable:
        lf = RegisteredLF(name=name or function.__name__, function=function, label=label)
        _REGISTRY.setdefault(function.__module__, {})[lf.name] = lf
        function.assay_lf = lf
        return function

    return register


@dataclass(frozen=True)
class LoadedLF:
    """A Python LF as the applier needs it: a name, a source hash (its version), and a
    Snorkel ``LabelingFunction`` whose votes are label indices."""

    name: str
    source_sha256: str
    snorkel_lf: object


def _source_hash(function: Callable) -> str:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = f"{function.__module__}.{getattr(function, '__qualname__', function)}"
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _as_snorkel(lf: RegisteredLF, label_set: list[str]):
    from snorkel.labeling import LabelingFunction

    index = {label: i for i, label in enumerate(label_set)}
    if lf.label is not None and lf.label not in index:
        raise PythonLFError(f"LF '{lf.name}' votes '{lf.label}', which is not a label here.")

    def vote(x) -> int:
        result = lf.function(x)
        if lf.label is not None:
            return index[lf.label] if result else -1
        if result is None:
            return -1
        if result not in index:
            raise PythonLFError(f"it returned {result!r}, which is not a label or None.")
        return index[result]

    return LabelingFunction(name=lf.name, f=vote)


def load_python_lfs(module_path: str, *, label_set: list[str]) -> list[LoadedLF]:
    """Import (or re-import, to pick up edits) ``module_path`` and return its LFs."""
    from snorkel.labeling import LabelingFunction

    _REGISTRY.pop(module_path, None)
    try:
        if module_path in sys.modules:
            module = importlib.reload(sys.modules[module_path])
        else:
            module = importlib.import_module(module_path)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to fix
        raise PythonLFError(f"Cannot import LF module '{module_path}': {exc!r}") from exc
    loaded = [
        LoadedLF(lf.name, _source_hash(lf.function), _as_snorkel(lf, label_set))
        for lf in _REGISTRY.get(module_path, {}).values()
    ]
    for value in vars(module).values():
        if isinstance(value, LabelingFunction) and value.name not in {x.name for x in loaded}:
            loaded.append(LoadedLF(value.name, _source_hash(value._f), value))
    return sorted(loaded, key=lambda lf: lf.name)


_LIBRARY_DIRS = [
    *(Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "purelib", "platlib")),
    Path(__file__).resolve().parent,
]


def _describe(exc: Exception) -> str:
    """``ZeroDivisionError: division by zero (spam_lfs.py, line 12)``: the last frame of
    the traceback outside Python, its libraries and this package is the user's line."""
    if isinstance(exc, PythonLFError):
        return str(exc)
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not any(Path(frame.filename).resolve().is_relative_to(d) for d in _LIBRARY_DIRS)
    ]
    where = f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class _RowGuard:
    """Calls a Snorkel LF on a row as ``PandasLFApplier`` would, turning whatever it raises
    into a `PythonLFRowError` naming the LF and the row (the row Series' index label)."""

    def __init__(self, lf) -> None:
        self.lf, self.name = lf, lf.name

    def __call__(self, x) -> int:
        try:
            vote = self.lf(x)
        except Exception as exc:  # noqa: BLE001 - a user's LF may raise anything
            raise PythonLFRowError(self.name, int(x.name), _describe(exc)) from exc
        if isinstance(vote, bool) or not isinstance(vote, Integral) or vote < -1:
            raise PythonLFRowError(
                self.name, int(x.name), f"it returned {vote!r}, not a label index or -1."
            )
        return vote


def apply_python_lfs(lfs: list[LoadedLF], rows: dict[str, list[str]], *, first_row: int = 0):
    """The label matrix of Python LFs over ``rows`` through Snorkel's ``PandasLFApplier``,
    in this process. ``first_row`` is the position of the block's first row in the whole
    input; a `PythonLFRowError` reports rows by that position."""
    import numpy as np
    import pandas as pd
    from snorkel.labeling import PandasLFApplier

    n_rows = len(next(iter(rows.values()), []))
    if not lfs or n_rows == 0:
        return np.full((n_rows, len(lfs)), -1, dtype=np.int64)
    frame = pd.DataFrame(rows, index=pd.RangeIndex(first_row, first_row + n_rows))
    guarded = [_RowGuard(lf.snorkel_lf) for lf in lfs]
    return PandasLFApplier(guarded).apply(frame, progress_bar=False)
