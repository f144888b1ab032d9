"""Sticky assignment and the metric catalogue (pure cores, no database)."""

import pytest

from serving.core.assignment import (
    AllocationError,
    assign,
    rollout_shares,
    unit_point,
    validate_shares,
)
from serving.core.metrics import MetricError, RequestRow, metric_spec, unit_values


def test_a_unit_lands_on_the_same_point_for_a_salt_and_elsewhere_for_another():
    assert unit_point("salt-a", "user-1") == unit_point("salt-a", "user-1")
    assert unit_point("salt-a", "user-1") != unit_point("salt-b", "user-1")
    assert 0 <= unit_point("salt-a", "user-1") < 1


def test_shares_split_units_as_configured():
    allocation = [("challenger", 0.1), ("champion", 0.9)]
    chosen = [assign(unit_point("s", f"u{n}"), allocation) for n in range(20_000)]
    assert chosen.count("challenger") / len(chosen) == pytest.approx(0.1, abs=0.01)


def test_growing_the_challenger_never_moves_its_units_back():
    units = [f"u{n}" for n in range(5_000)]
    before = {u for u in units if assign(unit_point("s", u), [("c", 0.1), ("ch", 0.9)]) == "c"}
    after = {u for u in units if assign(unit_point("s", u), [("c", 0.5), ("ch", 0.5)]) == "c"}
    assert before <= after and len(after) > 3 * len(before)


@pytest.mark.parametrize(
    ("shares", "message"), [([0.6, 0.6], "sum to 1"), ([1.2, -0.2], "negative"), ([], "two")]
)
def test_bad_shares_are_refused_with_the_reason(shares, message):
    with pytest.raises(AllocationError, match=message):
        validate_shares(shares)


def test_a_rollout_step_divides_the_challenger_share_by_initial_weight():
    shares = rollout_shares({"a": 0.2, "b": 0.1, "champion": 0.7}, "champion", 0.6)
    assert shares == pytest.approx({"a": 0.4, "b": 0.2, "champion": 0.4})


def _row(unit: str, variant: str, request: str, **fields) -> RequestRow:
    values = dict(latency_ms=100.0, error=False, response_length=10, completion_tokens=5)
    return RequestRow(request, unit, variant, 0, **{**values, **fields})


def test_scores_count_rated_requests_and_rates_count_every_request():
    rows = [_row("u1", "a", "r1"), _row("u1", "a", "r2"), _row("u2", "b", "r3")]
    events = {"r1": {"thumbs": 1.0}, "r3": {"resolved": 1.0}}

    thumbs = unit_values(metric_spec("thumbs"), rows, events)
    resolved = unit_values(metric_spec("event:resolved"), rows, events)

    assert thumbs == {"a": [1.0]}  # r2 unrated does not count; u2 has no rating at all
    assert resolved == {"a": [0.0], "b": [1.0]}


def test_failed_requests_count_as_errors_but_not_for_latency():
    rows = [_row("u1", "a", "r1", latency_ms=50.0), _row("u1", "a", "r2", error=True)]
    assert unit_values(metric_spec("error_rate"), rows, {}) == {"a": [0.5]}
    assert unit_values(metric_spec("latency_ms"), rows, {}) == {"a": [50.0]}


def test_an_unknown_metric_names_the_known_ones():
    with pytest.raises(MetricError, match="Unknown metric 'happiness'.*thumbs"):
        metric_spec("happiness")
