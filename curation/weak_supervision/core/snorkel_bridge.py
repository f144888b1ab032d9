"""The declarative rules written the plain way, one row at a time, as Snorkel LFs.

This is how a Snorkel user would write the same LFs; the equality test and the speed
benchmark run them through ``PandasLFApplier`` next to Assay's vectorised applier.
"""

import re

from .declarative import regex_pattern, stopword_share


def _keyword_row(params: dict):
    keywords = params["keywords"]
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    case_sensitive = params.get("case_sensitive", False)
    whole = params.get("whole_word", True)
    words = keywords if case_sensitive else [k.lower() for k in keywords]
    test = all if params.get("mode", "any") == "all" else any

    def holds(text: str) -> bool:
        text = text if case_sensitive else text.lower()
        if not whole:
            return test(word in text for word in words)
        return test(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) for word in words)

    return holds


def _between(value, params) -> bool:
    low, high = params.get("min"), params.get("max")
    return (low in (None, "") or value >= float(low)) and (
        high in (None, "") or value <= float(high)
    )


def row_rule(kind: str, params: dict, fields: list[str]):
    """A function ``row -> bool`` with the spec's meaning (``row`` has the fields as keys)."""
    field = params.get("field") or fields[0]
    if kind == "keyword":
        holds = _keyword_row(params)
        return lambda row: holds(row[field])
    if kind == "regex":
        pattern = regex_pattern(params)
        return lambda row: pattern.search(row[field]) is not None
    if kind == "length":
        measure = len if params.get("unit", "chars") == "chars" else (lambda t: len(t.split()))
        return lambda row: _between(measure(row[field]), params)
    if kind == "stopword_share":
        return lambda row: (
            (share := stopword_share(row[field])) is not None and _between(share, params)
        )
    if kind == "field_overlap":

        def holds(row) -> bool:
            ours = set(re.findall(r"\w+", row[field].lower()))
            theirs = set(re.findall(r"\w+", row[params["other"]].lower()))
            return bool(theirs) and _between(len(ours & theirs) / len(theirs), params)

        return holds
    raise ValueError(f"unknown kind {kind}")


def snorkel_lf(*, name: str, kind: str, params: dict, vote: int, fields: list[str]):
    from snorkel.labeling import LabelingFunction

    holds = row_rule(kind, params, fields)
    return LabelingFunction(name=name, f=lambda x: vote if holds(x) else -1)
