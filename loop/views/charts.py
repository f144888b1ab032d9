"""SVG-ready charts of monitoring windows (drawn inline by templates/loop/monitoring.html,
like the training curves): one chart per group of metrics, one line per metric over the
deployment's windows, and a dashed line at each metric's alert threshold."""

import math

from loop.core import drift

WIDTH, HEIGHT, PAD = 600, 180, 10

# (title, metrics); a group with no value in any window is not drawn.
GROUPS = (
    ("Input drift", ("length_ks", "oov_rate", "embedding_auc", "mmd_p_value")),
    ("Output drift", ("label_tvd", "output_length_ks", "refusal_rate", "prompt_overlap")),
    ("Feedback", ("negative_feedback_rate", "correction_rate")),
    ("Latency (ms)", ("latency_p95_ms", "latency_p50_ms")),
    ("Errors", ("error_rate",)),
)
TITLES = {"mmd_p_value": "MMD p-value", "latency_p50_ms": "Latency p50 (ms)",
          **{name: m.title for name, m in drift.METRICS.items()}}  # fmt: skip


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _x(index: int, count: int) -> float:
    if count == 1:
        return WIDTH / 2
    return round(PAD + (WIDTH - 2 * PAD) * index / (count - 1), 1)


def _y(value: float, y_max: float) -> float:
    return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / y_max, 1)


def window_chart(title: str, names: tuple, windows: list[dict], thresholds: dict) -> dict | None:
    """``windows``: one dict of values per window, oldest first."""
    present = [n for n in names if any(_finite(w.get(n)) for w in windows)]
    if not present:
        return None
    values = [w[n] for w in windows for n in present if _finite(w.get(n))]
    shown = {n: thresholds[n] for n in present if n in thresholds}
    y_max = max([*values, *shown.values(), 1e-9]) * 1.1
    count = len(windows)
    series = []
    for index, name in enumerate(present):
        points = [(_x(i, count), _y(w[name], y_max)) for i, w in enumerate(windows)
                  if _finite(w.get(name))]  # fmt: skip
        series.append({"name": name, "title": TITLES.get(name, name), "index": index,
                       "points": " ".join(f"{x},{y}" for x, y in points),
                       "dots": points, "last": windows[-1].get(name)})  # fmt: skip
    lines = [{"name": n, "title": TITLES.get(n, n), "value": v, "y": _y(v, y_max),
              "index": present.index(n)} for n, v in shown.items()]  # fmt: skip
    return {"title": title, "width": WIDTH, "height": HEIGHT, "series": series,
            "thresholds": lines, "y_max": y_max, "windows": count}  # fmt: skip


def deployment_charts(windows: list[dict], thresholds: dict) -> list[dict]:
    charts = (window_chart(title, names, windows, thresholds) for title, names in GROUPS)
    return [chart for chart in charts if chart]


def live_quality_chart(weeks: list[dict], metric: str) -> dict | None:
    """The live metric over ISO weeks (oldest left) with its 95% interval as a band;
    weeks without a labelled answer are left out. Accuracy is drawn on 0-1, ROUGE-L on
    0-100."""
    shown = [w for w in weeks if w.get(metric)]
    if not shown:
        return None
    y_max = 1.0 if metric == "accuracy" else 100.0
    count = len(shown)
    points = [(_x(i, count), _y(w[metric]["value"], y_max)) for i, w in enumerate(shown)]
    upper = [(_x(i, count), _y(w[metric]["high"], y_max)) for i, w in enumerate(shown)]
    lower = [(_x(i, count), _y(w[metric]["low"], y_max)) for i, w in enumerate(shown)]
    if count == 1:  # a band needs width: a short bar around the single week
        upper = [(x - 12, y) for x, y in upper] + [(x + 12, y) for x, y in upper]
        lower = [(x - 12, y) for x, y in lower] + [(x + 12, y) for x, y in lower]
    band = upper + lower[::-1]
    return {
        "title": "Live accuracy" if metric == "accuracy" else "Live ROUGE-L",
        "metric": metric, "width": WIDTH, "height": HEIGHT, "y_max": y_max,
        "points": " ".join(f"{x},{y}" for x, y in points), "dots": points,
        "band": " ".join(f"{x},{y}" for x, y in band),
        "weeks": [w["week"] for w in shown],
    }  # fmt: skip
