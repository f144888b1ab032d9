"""Experiment metrics: the catalogue, and per-unit values from logged requests and events.

Every metric is analysed per unit (the unit of randomisation), never per request: requests
of one user are not independent. A unit's value is the mean of its per-request values.

- log metrics come from the request log: ``latency_ms``, ``error_rate`` (1 for a failed
  request), ``response_length`` (characters of the answer), ``completion_tokens``;
- ``thumbs`` (1 up, 0 down) and ``rating`` are *scores*: a request without that event has
  no value and does not count;
- ``correction_rate`` and ``event:<name>`` (any custom event, e.g. ``event:resolved``) are
  *rates*: 1 when the request got the event, 0 when it did not.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LOG_METRICS = {
    "latency_ms": False,
    "error_rate": False,
    "response_length": True,
    "completion_tokens": True,
}
SCORE_METRICS = {"thumbs": "thumbs", "rating": "rating"}
RATE_METRICS = {"correction_rate": "correction"}
EVENT_PREFIX = "event:"


class MetricError(ValueError):
    """A metric name Assay does not know."""


@dataclass(frozen=True)
class MetricSpec:
    name: str
    source: str  # "log", "score" or "rate"
    event: str = ""  # the event name for scores and rates

    @property
    def title(self) -> str:
        return self.name.replace("event:", "").replace("_", " ")


def metric_spec(name: str) -> MetricSpec:
    name = (name or "").strip()
    if name in LOG_METRICS:
        return MetricSpec(name, "log")
    if name in SCORE_METRICS:
        return MetricSpec(name, "score", SCORE_METRICS[name])
    if name in RATE_METRICS:
        return MetricSpec(name, "rate", RATE_METRICS[name])
    if name.startswith(EVENT_PREFIX) and len(name) > len(EVENT_PREFIX):
        return MetricSpec(name, "rate", name[len(EVENT_PREFIX) :])
    known = [*LOG_METRICS, *SCORE_METRICS, *RATE_METRICS, "event:<name>"]
    raise MetricError(f"Unknown metric '{name}'; expected one of {', '.join(known)}.")


@dataclass(frozen=True)
class RequestRow:
    """What the analysis needs of one logged request."""

    request_id: str
    unit_key: str
    variant: str
    phase: int
    latency_ms: float
    error: bool
    response_length: int
    completion_tokens: int


def request_value(
    spec: MetricSpec, row: RequestRow, events: Mapping[str, float] | None
) -> float | None:
    """The request's value of the metric (None: the request does not count for it).
    ``events`` maps event name to its latest value for this request."""
    events = events or {}
    if spec.source == "log":
        if spec.name == "error_rate":
            return 1.0 if row.error else 0.0
        if row.error:
            return None  # a failed request has no latency or length worth comparing
        return float(getattr(row, spec.name))
    if spec.source == "score":
        return events.get(spec.event)
    return 1.0 if spec.event in events else 0.0


def unit_values(
    spec: MetricSpec,
    rows: Iterable[RequestRow],
    events: Mapping[str, Mapping[str, float]],
) -> dict[str, list[float]]:
    """Per variant, one value per unit (the mean of its requests' values), units in the
    order of their first request (the arrival order the sequential test needs)."""
    sums: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        value = request_value(spec, row, events.get(row.request_id))
        if value is None:
            continue
        sums.setdefault((row.variant, row.unit_key), []).append(value)
    per_variant: dict[str, list[float]] = defaultdict(list)
    for (variant, _unit), values in sums.items():
        per_variant[variant].append(sum(values) / len(values))
    return dict(per_variant)
