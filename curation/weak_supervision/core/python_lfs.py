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
up too; their integer votes index the project's label set (``-1`` abstains).
"""

import hashlib
import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass


class PythonLFError(ValueError):
    """A Python LF module cannot be loaded, or one of its LFs misbehaves."""


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
            raise PythonLFError(f"LF '{lf.name}' returned {result!r}, not a label or None.")
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


def apply_python_lfs(lfs: list[LoadedLF], rows: dict[str, list[str]]):
    """The label matrix of Python LFs through Snorkel's ``PandasLFApplier``."""
    import numpy as np
    import pandas as pd
    from snorkel.labeling import PandasLFApplier

    n_rows = len(next(iter(rows.values()), []))
    if not lfs or n_rows == 0:
        return np.full((n_rows, len(lfs)), -1, dtype=np.int64)
    frame = pd.DataFrame(rows)
    return PandasLFApplier([lf.snorkel_lf for lf in lfs]).apply(frame, progress_bar=False)
