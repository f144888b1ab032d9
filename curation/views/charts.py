"""Rows for the CSS bar charts: each bar's share of the total and its width relative to
the largest bar (so the largest one fills the row)."""

from collections.abc import Mapping


def bar_rows(counts: Mapping[str, int], *, empty_name: str = "(none)") -> list[dict]:
    total = sum(counts.values())
    largest = max(counts.values(), default=0)
    return [
        {
            "name": name or empty_name,
            "count": count,
            "percent": round(100 * count / total, 1) if total else 0.0,
            "width": round(100 * count / largest, 1) if largest else 0.0,
        }
        for name, count in counts.items()
    ]
