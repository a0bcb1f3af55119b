"""Inline SVG charts for the HTML trace report, written as text: no libraries, no scripts, no
external resources, so the page opens from disk anywhere. Hovering a mark shows its `<title>`.

Every label that may come from the user's code (layer names) is escaped here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import List, Optional, Sequence, Tuple

from trainlint.runtime.judging.context import fmt

# Viridis, sampled: dark for small values, bright for large ones, readable in grey scale too.
_VIRIDIS = (
    (68, 1, 84),
    (72, 40, 120),
    (62, 74, 137),
    (49, 104, 142),
    (38, 130, 142),
    (31, 158, 137),
    (53, 183, 121),
    (109, 205, 89),
    (180, 222, 44),
    (253, 231, 37),
)
NON_FINITE = "#e0115f"  # NaN/Inf: a colour the scale never takes
MISSING = "#d9d9d9"  # not measured (no gradient at that step)
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def colour(t: float) -> str:
    """The scale's colour at `t` in [0, 1]."""
    t = min(1.0, max(0.0, t)) * (len(_VIRIDIS) - 1)
    i = min(int(t), len(_VIRIDIS) - 2)
    f = t - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    r, g, bl = (round(a[k] + (b[k] - a[k]) * f) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, label: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" {FONT}{extra}>{escape(label)}</text>'


def short(label: str, limit: int = 34) -> str:
    """A long name cut from the left: its end (`layer.3.weight`) says most."""
    return label if len(label) <= limit else "…" + label[-(limit - 1) :]


@dataclass
class Scale:
    """A linear or log10 mapping from data values to pixels."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False
    integer: bool = False  # ticks at whole numbers only (steps)

    def __post_init__(self) -> None:
        if self.log:
            self.lo, self.hi = math.log10(self.lo), math.log10(self.hi)
        if self.hi <= self.lo:
            self.lo, self.hi = self.lo - 1.0, self.hi + 1.0

    def __call__(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        return self.start + (v - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def ticks(self) -> List[float]:
        """Tick values: powers of ten on a log scale, round steps on a linear one."""
        if self.log:
            first, last = math.ceil(self.lo - 1e-9), math.floor(self.hi + 1e-9)
            if last - first >= 1:
                every = max(1, math.ceil((last - first + 1) / 8))
                return [10.0**e for e in range(first, last + 1, every)]
            # Less than a decade: 1, 2, 5 times its powers of ten.
            lo, hi = 10**self.lo, 10**self.hi
            return [
                m * 10.0**e
                for e in range(math.floor(self.lo) - 1, math.ceil(self.hi) + 1)
                for m in (1, 2, 5)
                if lo * (1 - 1e-9) <= m * 10.0**e <= hi * (1 + 1e-9)
            ]
        span = self.hi - self.lo
        step = 10 ** math.floor(math.log10(span / 5))
        if self.integer:
            step = max(step, 1)
        for m in (1, 2, 5, 10):
            if span / (step * m) <= 6:
                step *= m
                break
        first = math.ceil(self.lo / step) * step
        return [first + k * step for k in range(int((self.hi - first) / step + 1e-9) + 1)]


def tick_label(value: float, log: bool) -> str:
    if log:
        e = math.log10(value)
        if abs(e - round(e)) < 1e-9 and value not in (1.0, 10.0):
            return f"1e{round(e)}"
        return fmt(value)
    return fmt(round(value, 10))


@dataclass
class Series:
    """One line of a chart: (x, y) points; y may be NaN/Inf (marked at the top edge)."""

    name: str
    points: List[Tuple[float, float]]
    stroke: str = "#1f77b4"
    width: float = 1.8
    dots: bool = True
    opacity: float = 1.0


@dataclass
class Marker:
    """A vertical line at `x` (dashed unless `solid`), or a shaded band from `x` to `x2`."""

    x: float
    label: str
    stroke: str = "#555"
    x2: Optional[float] = None
    solid: bool = False


@dataclass
class Chart:
    series: List[Series]
    x_label: str
    y_label: str
    log_x: bool = False
    log_y: bool = False
    markers: List[Marker] = field(default_factory=list)
    y_top: Optional[float] = None  # clip the y axis here (points above sit on the edge)
    integer_x: bool = False
    width: int = 760
    height: int = 300


def line_chart(chart: Chart) -> str:
    """Lines with dots, axes with ticks, and markers; a legend under it."""
    left, right, top, bottom = 64, 16, 12, 40
    w, h = chart.width, chart.height
    finite = [(x, y) for s in chart.series for x, y in s.points if math.isfinite(y) and math.isfinite(x)]
    if chart.log_y:
        finite = [(x, y) for x, y in finite if y > 0]
    if chart.log_x:
        finite = [(x, y) for x, y in finite if x > 0]
    xs = [x for x, _ in finite] + [m.x for m in chart.markers] + [m.x2 for m in chart.markers if m.x2 is not None]
    ys = [y for _, y in finite]
    if not xs or not ys:
        return '<p class="empty">no finite values to plot</p>'
    y_hi = max(ys) if chart.y_top is None else min(max(ys), chart.y_top)
    y_lo = min(ys)
    pad = (y_hi - y_lo) * 0.05 if not chart.log_y else 0.0
    sx = Scale(min(xs), max(xs), left, w - right, chart.log_x, chart.integer_x)
    sy = Scale(y_lo - pad, y_hi + pad, h - bottom, top, chart.log_y)
    out = [f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">']
    out.append(f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" fill="#fbfbfb"/>')
    for m in chart.markers:
        if m.x2 is not None:
            x0, x1 = sorted((sx(m.x), sx(m.x2)))
            out.append(
                f'<rect x="{_num(x0)}" y="{top}" width="{_num(max(x1 - x0, 2))}" height="{h - top - bottom}" '
                f'fill="{m.stroke}" fill-opacity="0.18"><title>{escape(m.label)}</title></rect>'
            )
    out += _axes(sx, sy, chart, left, top, w - right, h - bottom)
    for m in chart.markers:
        if m.x2 is None:
            x = sx(m.x)
            dash = "" if m.solid else ' stroke-dasharray="5 3"'
            out.append(
                f'<line x1="{_num(x)}" y1="{top}" x2="{_num(x)}" y2="{h - bottom}" stroke="{m.stroke}" '
                f'stroke-width="1.6"{dash}><title>{escape(m.label)}</title></line>'
            )
    for s in chart.series:
        out += _series(s, sx, sy, top, h - bottom, chart)
    out.append("</svg>")
    legend = [(s.stroke, s.name, "line") for s in chart.series] + [
        (m.stroke, m.label, "band" if m.x2 is not None else ("line" if m.solid else "dash")) for m in chart.markers
    ]
    return "".join(out) + _legend(legend)


def _axes(sx: Scale, sy: Scale, chart: Chart, x0: float, y0: float, x1: float, y1: float) -> List[str]:
    out = [f'<path d="M{x0} {y0} V{y1} H{x1}" fill="none" stroke="#333"/>']
    for t in sx.ticks():
        x = sx(t)
        out.append(f'<line x1="{_num(x)}" y1="{y1}" x2="{_num(x)}" y2="{y1 + 4}" stroke="#333"/>')
        out.append(_text(x, y1 + 16, tick_label(t, chart.log_x), "middle"))
    for t in sy.ticks():
        y = sy(t)
        out.append(f'<line x1="{x0 - 4}" y1="{_num(y)}" x2="{x1}" y2="{_num(y)}" stroke="#e3e3e3"/>')
        out.append(_text(x0 - 6, y + 4, tick_label(t, chart.log_y), "end"))
    out.append(_text((x0 + x1) / 2, y1 + 32, chart.x_label, "middle"))
    out.append(_text(12, (y0 + y1) / 2, chart.y_label, "middle", f' transform="rotate(-90 12 {_num((y0 + y1) / 2)})"'))
    return out


def _series(s: Series, sx: Scale, sy: Scale, top: float, bottom: float, chart: Chart) -> List[str]:
    out: List[str] = []
    path: List[str] = []
    dots: List[str] = []
    for x, y in s.points:
        if chart.log_x and x <= 0:
            continue
        px = sx(x)
        if not math.isfinite(y):
            path.append("")  # break the line at a NaN/Inf
            dots.append(
                f'<text x="{_num(px)}" y="{_num(top + 10)}" text-anchor="middle" fill="{NON_FINITE}" '
                f'{FONT} font-weight="bold">×<title>{escape(s.name)}: {fmt(y)} at {fmt(x)}</title></text>'
            )
            continue
        if chart.log_y and y <= 0:
            continue
        py = max(top, min(bottom, sy(y)))
        path.append(f"{_num(px)} {_num(py)}")
        if s.dots:
            dots.append(
                f'<circle cx="{_num(px)}" cy="{_num(py)}" r="2.6" fill="{s.stroke}" fill-opacity="{s.opacity}">'
                f"<title>{escape(s.name)}: {fmt(y)} at {fmt(x)}</title></circle>"
            )
    d = _polyline(path)
    if d:
        out.append(
            f'<path d="{d}" fill="none" stroke="{s.stroke}" stroke-width="{s.width}" stroke-opacity="{s.opacity}"/>'
        )
    return out + dots


def _polyline(points: List[str]) -> str:
    """An SVG path through the points, broken where an entry is empty."""
    parts: List[str] = []
    pen_up = True
    for p in points:
        if not p:
            pen_up = True
            continue
        parts.append(("M" if pen_up else "L") + p)
        pen_up = False
    return " ".join(parts)


def _legend(items: Sequence[Tuple[str, str, str]]) -> str:
    spans = []
    for stroke, label, kind in items:
        if kind == "band":
            swatch = f'<span class="swatch" style="background:{stroke};opacity:0.35"></span>'
        else:
            style = "dashed" if kind == "dash" else "solid"
            swatch = f'<span class="swatch line" style="border-top:3px {style} {stroke}"></span>'
        spans.append(f"<span>{swatch}{escape(label)}</span>")
    return f'<div class="legend">{"".join(spans)}</div>'


# ---------------------------------------------------------------------- heat map
@dataclass
class Grid:
    """Rows (layers) by columns (steps) of values; None: not measured."""

    rows: List[str]
    columns: List[str]
    values: List[List[Optional[float]]]
    value_name: str = "gradient norm"


def heat_map(grid: Grid) -> str:
    """log10 of each value as a colour, with a colour bar; NaN/Inf and missing cells stand out."""
    logs = [math.log10(v) for row in grid.values for v in row if v is not None and math.isfinite(v) and v > 0]
    lo, hi = (min(logs), max(logs)) if logs else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    n_rows, n_cols = len(grid.rows), len(grid.columns)
    cell_h = max(4.0, min(18.0, 640.0 / max(n_rows, 1)))
    cell_w = max(6.0, min(48.0, 620.0 / max(n_cols, 1)))
    label_every = max(1, math.ceil(11.0 / cell_h))  # only as many labels as fit
    left, top = 250.0, 8.0
    width = left + cell_w * n_cols + 170
    height = top + cell_h * n_rows + 44
    out = [f'<svg width="{_num(width)}" height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" role="img">']
    for r, (name, row) in enumerate(zip(grid.rows, grid.values)):
        y = top + r * cell_h
        if r % label_every == 0:
            out.append(_text(left - 6, y + cell_h / 2 + 4, short(name), "end"))
        for c, v in enumerate(row):
            if v is None:
                fill, shown = MISSING, "no gradient"
            elif not math.isfinite(v):
                fill, shown = NON_FINITE, fmt(v)
            elif v <= 0:
                fill, shown = colour(0.0), "0"
            else:
                fill, shown = colour((math.log10(v) - lo) / (hi - lo)), fmt(v)
            out.append(
                f'<rect x="{_num(left + c * cell_w)}" y="{_num(y)}" width="{_num(cell_w)}" height="{_num(cell_h)}" '
                f'fill="{fill}"><title>{escape(name)}, step {escape(grid.columns[c])}: '
                f"{escape(grid.value_name)} {escape(shown)}</title></rect>"
            )
    base = top + cell_h * n_rows
    col_every = max(1, math.ceil(28.0 / cell_w))
    for c, label in enumerate(grid.columns):
        if c % col_every == 0:
            out.append(_text(left + (c + 0.5) * cell_w, base + 14, label, "middle"))
    out.append(_text(left + cell_w * n_cols / 2, base + 32, "optimizer step", "middle"))
    out.append(_colour_bar(left + cell_w * n_cols + 24, top, max(cell_h * n_rows, 120.0), lo, hi, grid.value_name))
    out.append("</svg>")
    return "".join(out)


def _colour_bar(x: float, y: float, height: float, lo: float, hi: float, name: str) -> str:
    """The legend: the scale from lo to hi (log10), bottom to top, with powers of ten marked."""
    steps = 24
    out = []
    for k in range(steps):
        t = k / (steps - 1)
        yy = y + height - (k + 1) * height / steps
        out.append(
            f'<rect x="{_num(x)}" y="{_num(yy)}" width="14" height="{_num(height / steps + 0.5)}" fill="{colour(t)}"/>'
        )
    marks = [(float(e), f"1e{e}") for e in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
    if len(marks) < 2:  # less than a decade: mark both ends with their values
        marks = [(lo, fmt(10**lo)), (hi, fmt(10**hi))] + [m for m in marks if lo + 0.15 < m[0] < hi - 0.15]
    for e, label in marks:
        yy = y + height - (e - lo) / (hi - lo) * height
        out.append(f'<line x1="{_num(x + 14)}" y1="{_num(yy)}" x2="{_num(x + 18)}" y2="{_num(yy)}" stroke="#333"/>')
        out.append(_text(x + 20, yy + 4, label))
    out.append(_text(x, y + height + 14, f"log10 {name}"))
    return "".join(out)


# ---------------------------------------------------------------------- update ratios
@dataclass
class RatioRow:
    name: str
    per_step: List[float]  # finite, > 0
    median: float


def ratio_plot(rows: List[RatioRow], band: Tuple[float, float], target: float = 1e-3) -> str:
    """One row per weight: each step's ||dw||/||w|| (small dots) and their median (large dot) on
    a log axis, against the ~1e-3 band (1e-4 to 1e-2 shaded) and the flagging thresholds."""
    values = [v for r in rows for v in r.per_step] + [band[0], band[1], target * 0.1, target * 10]
    lo = 10 ** math.floor(math.log10(max(min(values), 1e-12)))
    hi = 10 ** math.ceil(math.log10(min(max(values), 1e3)))
    row_h = max(6.0, min(18.0, 640.0 / max(len(rows), 1)))
    label_every = max(1, math.ceil(11.0 / row_h))
    left, top, plot_w = 250.0, 8.0, 520.0
    height = top + row_h * len(rows) + 44
    width = left + plot_w + 20
    sx = Scale(lo, hi, left, left + plot_w, log=True)
    bottom = top + row_h * len(rows)
    out = [f'<svg width="{_num(width)}" height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" role="img">']
    b0, b1 = sx(target / 10), sx(target * 10)
    out.append(
        f'<rect x="{_num(b0)}" y="{top}" width="{_num(b1 - b0)}" height="{_num(bottom - top)}" fill="#2ca02c" '
        f'fill-opacity="0.15"><title>the usual band: 1e-4 to 1e-2 around 1e-3</title></rect>'
    )
    out.append(
        f'<line x1="{_num(sx(target))}" y1="{top}" x2="{_num(sx(target))}" y2="{_num(bottom)}" stroke="#2ca02c"/>'
    )
    for edge in band:
        out.append(
            f'<line x1="{_num(sx(edge))}" y1="{top}" x2="{_num(sx(edge))}" y2="{_num(bottom)}" stroke="#d62728" '
            f'stroke-dasharray="5 3"><title>TL909 flags a median outside {fmt(band[0])} to {fmt(band[1])}</title></line>'
        )
    for r, row in enumerate(rows):
        y = top + (r + 0.5) * row_h
        if r % label_every == 0:
            out.append(_text(left - 6, y + 4, short(row.name), "end"))
        for v in row.per_step:
            out.append(f'<circle cx="{_num(sx(v))}" cy="{_num(y)}" r="2" fill="#555" fill-opacity="0.35"/>')
        inside = band[0] <= row.median <= band[1]
        fill = "#1f77b4" if inside else "#d62728"
        out.append(
            f'<circle cx="{_num(sx(row.median))}" cy="{_num(y)}" r="{_num(min(5.0, row_h / 2))}" fill="{fill}">'
            f"<title>{escape(row.name)}: median ||dw||/||w|| {fmt(row.median)} over {len(row.per_step)} step(s)"
            "</title></circle>"
        )
    for t in sx.ticks():
        x = sx(t)
        out.append(f'<line x1="{_num(x)}" y1="{_num(bottom)}" x2="{_num(x)}" y2="{_num(bottom + 4)}" stroke="#333"/>')
        out.append(_text(x, bottom + 16, tick_label(t, True), "middle"))
    out.append(f'<line x1="{left}" y1="{_num(bottom)}" x2="{left + plot_w}" y2="{_num(bottom)}" stroke="#333"/>')
    out.append(_text(left + plot_w / 2, bottom + 34, "update / weight norm ratio ||dw|| / ||w|| (log scale)", "middle"))
    out.append("</svg>")
    legend = _legend(
        [
            ("#2ca02c", "1e-4 to 1e-2: the usual band around 1e-3", "band"),
            ("#d62728", f"TL909 thresholds ({fmt(band[0])}, {fmt(band[1])})", "dash"),
        ]
    )
    return "".join(out) + legend


def fraction_bar(value: Optional[float], warn: float = 0.5) -> str:
    """A small inline bar for a fraction in [0, 1] (red from `warn` up)."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return escape(fmt(value))
    v = min(1.0, max(0.0, value))
    fill = "#d62728" if v >= warn else "#1f77b4"
    bar = (
        f'<svg width="60" height="10" viewBox="0 0 60 10" class="bar">'
        f'<rect width="60" height="10" fill="#eee"/><rect width="{_num(60 * v)}" height="10" fill="{fill}"/></svg>'
    )
    return f"{bar} {escape(fmt(value))}"
