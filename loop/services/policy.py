"""Changing a project's loop policy: alert thresholds, webhook, window, budget.

Who may change what: the ML engineers who run the loop (``serve``) set thresholds, the
webhook, the window and the challenger share; the budget caps what they themselves spend,
so changing it needs ``manage`` (admins). Every value is checked before anything is
saved: one bad value changes nothing and the error names it."""

import math

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from curation.exceptions import AssayError
from curation.models import Project
from curation.permissions import Action, require
from curation.services.audit import audit_record
from loop.core import drift
from loop.models import LoopPolicy

# field: (lowest, highest, whole number)
NUMBERS: dict[str, tuple[float, float, bool]] = {
    "window_hours": (1, 24 * 366, True),
    "min_window_requests": (1, 1_000_000, True),
    "feedback_batch_size": (1, 100_000, True),
    "budget_warn_share": (0.0, 1.0, False),
    "challenger_share": (0.01, 0.5, False),
    "live_quality_sample_size": (1, 10_000, True),
}
BUDGET_FIELDS = ("budget", "budget_warn_share")
FIELDS = ("alert_thresholds", "webhook_url", "budget", *NUMBERS)


def _number(name: str, value) -> float | int:
    low, high, whole = NUMBERS[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise AssayError(f"'{name}' must be a number; got {value!r}.")
    if whole and value != int(value):
        raise AssayError(f"'{name}' must be a whole number; got {value}.")
    if not low <= value <= high:
        raise AssayError(f"'{name}' must lie between {low:g} and {high:g}; got {value:g}.")
    return int(value) if whole else float(value)


def _budget(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AssayError(f"'budget' must be a number or empty; got {value!r}.")
    if value < 0:
        raise AssayError(f"'budget' must not be negative; got {value:g}.")
    return float(value)


def _webhook(value) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError as exc:
        raise AssayError(f"'webhook_url' must be an http(s) URL; got '{value}'.") from exc
    return value


def loop_policy_clean(values: dict) -> dict:
    """The validated subset of ``values`` (only the fields given); AssayError names the
    first bad one."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise AssayError(f"Unknown policy field(s): {', '.join(unknown)}.")
    cleaned: dict = {}
    for name, value in values.items():
        if name == "alert_thresholds":
            if not isinstance(value, dict):
                raise AssayError("'alert_thresholds' must map metric names to numbers.")
            try:
                cleaned[name] = drift.check_thresholds(value)
            except drift.ThresholdError as exc:
                raise AssayError(str(exc)) from exc
        elif name == "webhook_url":
            cleaned[name] = _webhook(value)
        elif name == "budget":
            cleaned[name] = _budget(value)
        else:
            cleaned[name] = _number(name, value)
    return cleaned


@transaction.atomic
def loop_policy_update(*, project: Project, user, values: dict) -> LoopPolicy:
    """Validate ``values`` and save them on the project's policy (created on first use).
    A budget change also needs the manage permission."""
    require(user, project, Action.SERVE)
    cleaned = loop_policy_clean(values)
    policy, _ = LoopPolicy.objects.select_for_update().get_or_create(project=project)
    before = {name: getattr(policy, name) for name in cleaned}
    changed = {name: v for name, v in cleaned.items() if before[name] != v}
    if any(name in BUDGET_FIELDS for name in changed):
        require(user, project, Action.MANAGE)
    for name, value in changed.items():
        setattr(policy, name, value)
    policy.save()
    if changed:
        audit_record(project=project, actor=user, action="loop.policy", target=policy,
                     before={k: before[k] for k in changed}, after=changed,
                     message=f"Loop policy changed: {', '.join(sorted(changed))}")  # fmt: skip
    return policy
