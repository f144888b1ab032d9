"""SVG-ready charts for the experiment page (drawn by the templates as inline SVG, like
the training curves): the cumulative effect with its always-valid band, and units per
variant over time."""

import math

WIDTH, HEIGHT, PAD = 600, 200, 8


def _finite(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _scale(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low < 1e-12:
        low, high = low - 1, high + 1
    margin = (high - low) * 0.05
    return low - margin, high + margin


def _xy(x: float, y: float, x_max: float, y_min: float, y_max: float) -> tuple[float, float]:
    px = PAD + (WIDTH - 2 * PAD) * (x / x_max if x_max else 0)
    py = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (y - y_min) / (y_max - y_min)
    return round(px, 1), round(py, 1)


def effect_chart(path: list[dict]) -> dict | None:
    """Difference (challenger - champion) by units so far, its always-valid interval as a
    band, and the zero line: where the band leaves zero, the test has decided."""
    points = [
        p
        for p in path
        if _finite(p.get("difference")) and _finite(p.get("cs_low")) and _finite(p.get("cs_high"))
    ]
    if len(points) < 2:
        return None
    xs = [p["n_control"] + p["n_treatment"] for p in points]
    y_min, y_max = _scale([0.0, *(p["cs_low"] for p in points), *(p["cs_high"] for p in points)])
    x_max = max(xs)
    upper = [_xy(x, p["cs_high"], x_max, y_min, y_max) for x, p in zip(xs, points, strict=True)]
    lower = [_xy(x, p["cs_low"], x_max, y_min, y_max) for x, p in zip(xs, points, strict=True)]
    line = [_xy(x, p["difference"], x_max, y_min, y_max) for x, p in zip(xs, points, strict=True)]
    zero = _xy(0, 0.0, x_max, y_min, y_max)[1]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "band": " ".join(f"{x},{y}" for x, y in upper + lower[::-1]),
        "line": " ".join(f"{x},{y}" for x, y in line),
        "zero_y": zero,
        "x_max": x_max,
        "y_min": y_min,
        "y_max": y_max,
        "last": points[-1],
    }


def units_chart(series: list[dict], names: dict[str, str]) -> dict | None:
    """Cumulative units per variant as the experiment went on."""
    if len(series) < 2:
        return None
    x_max = series[-1]["units"]
    y_max = max(max(point.get(key, 0) for key in names) for point in series) or 1
    lines = []
    for index, (key, name) in enumerate(names.items()):
        coords = [_xy(p["units"], p.get(key, 0), x_max, 0, y_max * 1.05) for p in series]
        lines.append(
            {
                "name": name,
                "index": index,
                "points": " ".join(f"{x},{y}" for x, y in coords),
                "total": series[-1].get(key, 0),
            }
        )
    return {"width": WIDTH, "height": HEIGHT, "lines": lines, "x_max": x_max, "y_max": y_max}
