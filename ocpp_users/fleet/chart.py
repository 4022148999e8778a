"""A line chart as SVG text: the Charge points view draws it live, the HTML report inline.

One drawing for both (the web UI fetches the SVG with its data every few seconds): a time axis
(m:ss or h:mm:ss), a value axis with round ticks, one polyline per series (a gap where a value is
missing), a legend with each series' last value, and storm markers (a dashed line at the
broadcast, a shaded band until every charge point was done). No script, no external resource.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ocpp_users.fleet.timeline import Marker


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str
    values: Sequence[float | None]


STATE_COLORS = {
    "connecting": "#9e9e9e",
    "booting": "#f9a825",
    "booted": "#1e88e5",
    "charging": "#43a047",
    "reconnecting": "#8e24aa",
    "failed": "#e53935",
}


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into about ``ticks`` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def clock(seconds: float) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def line_chart(
    times: Sequence[float],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    width: int = 900,
    height: int = 260,
    markers: Sequence[Marker] = (),
    y_max: float | None = None,
    chart_id: str = "",
) -> str:
    """The chart as an ``<svg>`` element (``data-points`` on each line: how many points it has)."""
    left, right, top, bottom = 56, 12, 44, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    t_end = max(times[-1] if times else 0.0, 10.0)
    marker_end = max((m.end or m.start for m in markers), default=0.0)
    t_end = max(t_end, marker_end)
    highest = max((v for s in series for v in s.values if v is not None), default=0.0)
    top_value = y_max if y_max is not None else highest
    y_step = nice_step(max(top_value, 1.0))
    y_top = max(y_step, math.ceil(max(top_value, 1e-9) / y_step) * y_step)
    x_step = nice_step(t_end, 8)

    def x(t: float) -> float:
        return left + plot_w * t / t_end

    def y(v: float) -> float:
        return top + plot_h * (1.0 - min(v, y_top) / y_top)

    label = escape(title)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vocpp-chart" role="img" aria-label="{label}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;font:12px sans-serif"'
        + (f' id="{escape(chart_id)}"' if chart_id else "")
        + ">",
        f"<title>{label}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ddd"/>',
        f'<text x="{left}" y="14" font-weight="bold">{label}{escape(f" ({unit})" if unit else "")}</text>',
    ]
    value = 0.0
    while value <= y_top + 1e-9:
        yy = y(value)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e6e6e6"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#555">{_number(value)}</text>')
        value += y_step
    tick = 0.0
    while tick <= t_end + 1e-9:
        xx = x(tick)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#999"/>')
        out.append(f'<text x="{xx:.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{clock(tick)}</text>')
        tick += x_step
    for marker in markers:
        x0 = x(marker.start)
        tip = escape(marker.label + (f": {marker.figure}" if marker.figure else ""))
        out.append('<g class="vocpp-marker">')
        out.append(f"<title>{tip}</title>")
        if marker.end is not None and marker.end > marker.start:
            out.append(
                f'<rect x="{x0:.1f}" y="{top}" width="{max(1.0, x(marker.end) - x0):.1f}" height="{plot_h}" '
                'fill="#ff7043" fill-opacity="0.12"/>'
            )
        out.append(
            f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#ff7043" '
            'stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
        out.append(f'<text x="{x0 + 3:.1f}" y="{top + 12}" fill="#d84315" font-size="11">{escape(marker.label)}</text>')
        out.append("</g>")
    legend_x = left
    for s in series:
        last = next((v for v in reversed(s.values) if v is not None), None)
        text = f"{s.label} {_number(last)}" if last is not None else s.label
        out.append(
            f'<rect x="{legend_x}" y="24" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{legend_x + 14}" y="33" fill="#333">{escape(text)}</text>'
        )
        legend_x += 24 + 7 * len(text)
    for s in series:
        runs: list[list[str]] = [[]]
        for t, v in zip(times, s.values, strict=False):
            if v is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append(f"{x(t):.1f},{y(v):.1f}")
        points = sum(len(run) for run in runs)
        for run in runs:
            if not run:
                continue
            if len(run) == 1:
                run.append(run[0])
            out.append(
                f'<polyline class="vocpp-series" data-series="{escape(s.key)}" data-points="{points}" '
                f'fill="none" stroke="{s.color}" stroke-width="2" stroke-linejoin="round" points="{" ".join(run)}"/>'
            )
    out.append("</svg>")
    return "".join(out)
