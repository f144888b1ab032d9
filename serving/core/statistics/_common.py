"""Small helpers shared by the statistics modules: input coercion and JSON-safe output."""

import dataclasses
import math
from collections.abc import Iterable

import numpy as np


def as_values(values: Iterable[float]) -> np.ndarray:
    """Per-unit values as a 1-D float array; NaN entries (units with no value) are dropped."""
    array = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=float)
    array = array.reshape(-1)
    return array[~np.isnan(array)]


def json_safe(value):
    """NaN and infinities become None, so ``as_dict`` output is valid JSON (PostgreSQL rejects
    NaN and Infinity in jsonb); containers are converted recursively."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


class DictMixin:
    """Gives a frozen dataclass an ``as_dict`` that is JSON-safe."""

    def as_dict(self) -> dict:
        return json_safe(dataclasses.asdict(self))
