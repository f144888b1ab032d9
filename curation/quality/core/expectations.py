"""Expectation suites run with Great Expectations 1.x on a pandas frame of a version's rows.

A suite is a list of `ExpectationSpec`s (what the database stores, in words a person can
edit); `run_expectations` turns each into a GX expectation, validates the whole frame in
an ephemeral context and returns one `ExpectationOutcome` per spec. GX is imported inside
the function: importing it takes seconds.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.exceptions import AssayError

PII_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "phone": r"(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b",
    "credit_card": r"\b(?:\d[ -]?){13,16}\b",
}

KINDS = {
    "not_empty": "Text is not empty",
    "length_between": "Text length is within bounds",
    "label_in_set": "Label is in the project's label set",
    "unique_external_id": "External ids are unique",
    "no_pii": "No personal data (e-mail, phone, card numbers)",
    "not_match_regex": "Text does not match a pattern",
}

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class ExpectationSpec:
    """One rule: ``kind`` (a key of KINDS), the ``column`` it checks, and its ``params``
    (min_length/max_length, labels, patterns, regex)."""

    kind: str
    column: str = "text"
    params: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # the caller's id for the rule, passed back in the outcome


@dataclass
class ExpectationOutcome:
    key: str
    kind: str
    column: str
    description: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float
    sample_values: list[Any]
    unexpected_rows: list[int]  # row positions in the frame, at most 1,000


def describe(spec: ExpectationSpec) -> str:
    params = spec.params
    if spec.kind == "length_between":
        bounds = f"{params.get('min_length', 0)}–{params.get('max_length', '∞')}"
        return f"{spec.column} length is {bounds} characters"
    if spec.kind == "no_pii":
        return f"{spec.column} has no {', '.join(params.get('patterns', list(PII_PATTERNS)))}"
    if spec.kind == "not_match_regex":
        return f"{spec.column} does not match /{params.get('regex', '')}/"
    if spec.kind == "label_in_set":
        return f"{spec.column} is one of {', '.join(params.get('labels', []))}"
    return f"{KINDS.get(spec.kind, spec.kind)} ({spec.column})"


def validate_spec(spec: ExpectationSpec) -> None:
    """Raise AssayError naming what is wrong with a rule before anything is stored."""
    import re

    if spec.kind not in KINDS:
        raise AssayError(f"Unknown expectation kind '{spec.kind}'.")
    if not spec.column:
        raise AssayError("An expectation needs a column.")
    params = spec.params
    if spec.kind == "length_between":
        low, high = params.get("min_length"), params.get("max_length")
        if low is None and high is None:
            raise AssayError("A length rule needs a minimum, a maximum or both.")
        if low is not None and high is not None and int(low) > int(high):
            raise AssayError(f"Minimum length {low} is above the maximum {high}.")
    if spec.kind == "no_pii":
        unknown = set(params.get("patterns", [])) - set(PII_PATTERNS)
        if unknown:
            raise AssayError(f"Unknown PII pattern(s): {', '.join(sorted(unknown))}.")
    if spec.kind == "not_match_regex":
        try:
            re.compile(params.get("regex") or "")
        except re.error as exc:
            raise AssayError(f"The pattern is not a valid regular expression: {exc}.") from exc
        if not params.get("regex"):
            raise AssayError("A pattern rule needs a regular expression.")


def _gx_expectation(spec: ExpectationSpec):
    import great_expectations.expectations as gxe

    params, column = spec.params, spec.column
    if spec.kind == "not_empty":
        return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=r"\S")
    if spec.kind == "length_between":
        return gxe.ExpectColumnValueLengthsToBeBetween(
            column=column, min_value=params.get("min_length"), max_value=params.get("max_length")
        )
    if spec.kind == "label_in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(params["labels"]))
    if spec.kind == "unique_external_id":
        return gxe.ExpectColumnValuesToBeUnique(column=column)
    if spec.kind == "no_pii":
        names = params.get("patterns") or list(PII_PATTERNS)
        return gxe.ExpectColumnValuesToNotMatchRegexList(
            column=column, regex_list=[PII_PATTERNS[name] for name in names]
        )
    return gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=params["regex"])


def run_expectations(
    rows: Sequence[dict], specs: Sequence[ExpectationSpec]
) -> list[ExpectationOutcome]:
    """Validate ``rows`` (dicts with the columns the specs name) against ``specs``."""
    if not specs:
        return []
    import great_expectations as gx
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    columns = set(frame.columns)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (
        context.data_sources.add_pandas("assay")
        .add_dataframe_asset("rows")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    outcomes = []
    for spec in specs:
        if spec.column not in columns:
            outcomes.append(_missing_column(spec, len(frame)))
            continue
        result = batch.validate(_gx_expectation(spec), result_format={"result_format": "COMPLETE"})
        outcomes.append(_outcome(spec, result, len(frame)))
    return outcomes


def _outcome(spec: ExpectationSpec, result, rows: int) -> ExpectationOutcome:
    details = result.result or {}
    unexpected_rows = [int(i) for i in details.get("unexpected_index_list") or []][:1000]
    return ExpectationOutcome(
        key=spec.key,
        kind=spec.kind,
        column=spec.column,
        description=describe(spec),
        success=bool(result.success),
        element_count=int(details.get("element_count", rows)),
        unexpected_count=int(details.get("unexpected_count") or 0),
        unexpected_percent=round(float(details.get("unexpected_percent") or 0.0), 3),
        sample_values=[_short(v) for v in (details.get("partial_unexpected_list") or [])][
            :SAMPLE_SIZE
        ],
        unexpected_rows=unexpected_rows,
    )


def _missing_column(spec: ExpectationSpec, rows: int) -> ExpectationOutcome:
    return ExpectationOutcome(
        key=spec.key,
        kind=spec.kind,
        column=spec.column,
        description=f"{describe(spec)} — the version has no column '{spec.column}'",
        success=False,
        element_count=rows,
        unexpected_count=rows,
        unexpected_percent=100.0 if rows else 0.0,
        sample_values=[],
        unexpected_rows=[],
    )


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value
