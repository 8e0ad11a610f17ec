"""A run's metrics as line charts: SVG rendered on the server (no script, nothing fetched
from elsewhere), one chart a numeric history key, and its summary as table rows."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from .store import Store, history

#: Charts a run page draws at most (the first keys by name), and points a chart.
MAX_CHARTS = 24
MAX_POINTS = 500
_WIDTH, _HEIGHT = 360, 180
# Room for the axes' labels.
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 10, 10, 26


@dataclass(frozen=True)
class Chart:
    key: str
    svg: Markup
    points: int


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _label(value: float) -> str:
    return f"{value:.4g}"


def _svg(key: str, points: list[tuple[float, float]]) -> Markup:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = min(ys), max(ys)
    x_span, y_span = (x_high - x_low) or 1.0, (y_high - y_low) or 1.0
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            _LEFT + (x - x_low) / x_span * plot_w,
            _TOP + plot_h - (y - y_low) / y_span * plot_h,
        )

    placed = [at(x, y) for x, y in points]
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py in placed)
    bottom, right = _TOP + plot_h, _LEFT + plot_w
    title = escape(key)
    shape = (
        f'<polyline class="line" fill="none" stroke="#1f77b4" stroke-width="1.5" points="{path}"/>'
        if len(points) > 1
        else f'<circle class="line" r="3" fill="#1f77b4" cx="{placed[0][0]:.1f}" '
        f'cy="{placed[0][1]:.1f}"/>'
    )
    return Markup(
        f'<svg class="chart" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}">'
        f"<title>{title}</title>"
        f'<g stroke="#999" stroke-width="1"><line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" '
        f'y2="{bottom}"/><line x1="{_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/></g>'
        f'<g font-size="10" fill="#555" font-family="sans-serif">'
        f'<text x="{_LEFT - 4}" y="{_TOP + 8}" text-anchor="end">{_label(y_high)}</text>'
        f'<text x="{_LEFT - 4}" y="{bottom}" text-anchor="end">{_label(y_low)}</text>'
        f'<text x="{_LEFT}" y="{bottom + 14}">{_label(x_low)}</text>'
        f'<text x="{right}" y="{bottom + 14}" text-anchor="end">{_label(x_high)}</text>'
        f'<text x="{(_LEFT + right) / 2:.0f}" y="{bottom + 22}" text-anchor="middle">_step</text>'
        f"</g>{shape}</svg>"
    )


def charts(store: Store, run_id: int) -> list[Chart]:
    """A chart for each history key that holds numbers (W&B's own ``_`` keys left out)."""
    described = history.keys(store, run_id)["keys"]
    numeric = sorted(
        key
        for key, info in described.items()
        if not key.startswith("_") and any(t["type"] == "number" for t in info["typeCounts"])
    )
    drawn = []
    for key in numeric[:MAX_CHARTS]:
        rows = history.sampled(store, run_id, {"keys": ["_step", key], "samples": MAX_POINTS})
        points = [
            (float(row["_step"]), y) for row in rows if (y := _number(row[key])) is not None
        ]
        if points:
            drawn.append(Chart(key, _svg(key, points), len(points)))
    return drawn


def summary_rows(summary_json: str | None) -> list[tuple[str, str]]:
    """(key, value) rows of a run's summary, W&B's internal ``_wandb`` entry left out."""
    try:
        summary = json.loads(summary_json or "{}")
    except ValueError:
        return []
    if not isinstance(summary, dict):
        return []
    return [
        (key, value if isinstance(value, str) else json.dumps(value))
        for key, value in sorted(summary.items())
        if key != "_wandb"
    ]
