"""Comparing two distributions: label shares and text lengths. Pure Python."""

from collections.abc import Mapping, Sequence
from statistics import mean, median

LENGTH_BUCKETS = (0, 20, 50, 100, 200, 500, 1000, 2000)


def label_shift(before: Mapping[str, int], after: Mapping[str, int]) -> list[dict]:
    """Per label: counts and shares before and after, and the change in share (points)."""
    total_before, total_after = sum(before.values()), sum(after.values())
    rows = []
    for label in sorted(set(before) | set(after)):
        share_before = before.get(label, 0) / total_before if total_before else 0.0
        share_after = after.get(label, 0) / total_after if total_after else 0.0
        rows.append(
            {
                "label": label,
                "before": before.get(label, 0),
                "after": after.get(label, 0),
                "share_before": round(share_before, 4),
                "share_after": round(share_after, 4),
                "shift": round(share_after - share_before, 4),
            }
        )
    return rows


def bucket_name(index: int) -> str:
    low = LENGTH_BUCKETS[index]
    if index + 1 < len(LENGTH_BUCKETS):
        return f"{low}–{LENGTH_BUCKETS[index + 1] - 1}"
    return f"{low}+"


def length_histogram(lengths: Sequence[int]) -> dict[str, int]:
    counts = [0] * len(LENGTH_BUCKETS)
    for length in lengths:
        index = sum(1 for low in LENGTH_BUCKETS if length >= low) - 1
        counts[max(index, 0)] += 1
    return {bucket_name(i): n for i, n in enumerate(counts)}


def length_summary(lengths: Sequence[int]) -> dict:
    if not lengths:
        return {"count": 0, "mean": 0.0, "median": 0.0, "histogram": length_histogram([])}
    return {
        "count": len(lengths),
        "mean": round(mean(lengths), 1),
        "median": float(median(lengths)),
        "histogram": length_histogram(lengths),
    }


def length_shift(before: Sequence[int], after: Sequence[int]) -> dict:
    first, second = length_summary(before), length_summary(after)
    return {
        "before": first,
        "after": second,
        "mean_change": round(second["mean"] - first["mean"], 1),
        "buckets": [
            {"bucket": name, "before": first["histogram"][name], "after": count}
            for name, count in second["histogram"].items()
        ],
    }
