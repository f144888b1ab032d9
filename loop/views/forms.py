"""The loop pages' forms as the services take them: text fields become numbers (a field
that is not one is an error naming it), empty fields are left out or mean "none"."""

from curation.exceptions import AssayError
from loop.core import drift
from loop.services.policy import NUMBERS


def _parse(raw: str, name: str, *, whole: bool = False) -> float | int:
    try:
        return int(raw) if whole else float(raw)
    except (TypeError, ValueError) as exc:
        kind = "a whole number" if whole else "a number"
        raise AssayError(f"'{name}' must be {kind}; got '{raw}'.") from exc


def policy_values(post, *, can_manage: bool) -> dict:
    """Thresholds (``threshold_<metric>``; empty: the default), webhook, window and the
    other numbers; the budget fields only for someone who may change them."""
    thresholds = {}
    for name in drift.METRICS:
        raw = post.get(f"threshold_{name}", "").strip()
        if raw:
            thresholds[name] = _parse(raw, name)
    values: dict = {"alert_thresholds": thresholds, "webhook_url": post.get("webhook_url", "")}
    for name, (_low, _high, whole) in NUMBERS.items():
        raw = post.get(name, "").strip()
        if raw and (can_manage or name != "budget_warn_share"):
            values[name] = _parse(raw, name, whole=whole)
    if can_manage:
        raw = post.get("budget", "").strip()
        values["budget"] = _parse(raw, "budget") if raw else None
    return values


def trigger_values(post) -> dict:
    kind = post.get("kind", "")
    values: dict = {"kind": kind}
    if kind in ("metric_below", "drift_above"):
        raw = post.get("threshold", "").strip()
        values["metric"] = post.get("metric", "")
        values["threshold"] = _parse(raw, "threshold") if raw else None
    elif kind == "new_examples":
        values["count"] = _parse(post.get("count", "").strip(), "count", whole=True)
    elif kind == "schedule":
        values["cron"] = post.get("cron", "")
    return values
