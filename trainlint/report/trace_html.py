"""`trainlint trace --report FILE`: the trace as one self-contained HTML page.

The page only formats what the trace already gathered (the same `TraceReport` the text and JSON
reports read), after the run: inline CSS and SVG, no script, no font or URL to fetch, so it
opens from disk. Sections have stable ids (`#loss`, `#grad-norms`, `#activations`,
`#update-ratios`, `#lr-find`, `#findings`); one whose data the run did not collect says so.
"""

from __future__ import annotations

import math
import statistics
from html import escape
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from trainlint.diagnostics import Diagnostic, Status
from trainlint.report import charts
from trainlint.report.charts import Chart, Grid, Marker, RatioRow, Series
from trainlint.report.trace_text import about_the_run, evidence_lines, outcome_line
from trainlint.runtime.judging.context import fmt
from trainlint.runtime.judging.lr_find import RangeTest, compare, text_lines
from trainlint.runtime.records import LrFindOptimizer, ParamInfo, StepRecord, as_float

if TYPE_CHECKING:
    from trainlint.runtime.judging.report import TraceReport

# Readable bounds: beyond them rows are thinned and steps binned, with a note saying so.
MAX_ROWS = 200
MAX_STEPS = 100
MAX_POINTS = 1000

SECTIONS = (
    ("findings", "Findings"),
    ("loss", "Loss per step"),
    ("grad-norms", "Gradient norms per layer"),
    ("activations", "Activation statistics"),
    ("update-ratios", "Update / weight ratios"),
    ("lr-find", "Learning-rate range test"),
    ("baseline", "Comparison with the baseline run"),
)

# The plot that shows each rule's evidence (rules absent here have no plot: their evidence is
# the text under the finding).
_PLOT_OF = {
    "TL303": "loss",
    "TL901": "loss",
    "TL910": "loss",
    "TL912": "loss",
    "TL402": "grad-norms",
    "TL902": "grad-norms",
    "TL903": "grad-norms",
    "TL907": "grad-norms",
    "TL916": "grad-norms",
    "TL401": "activations",
    "TL904": "activations",
    "TL905": "activations",
    "TL501": "update-ratios",
    "TL908": "update-ratios",
    "TL909": "update-ratios",
    "TL914": "lr-find",
}

_STATUS_TITLES = {
    Status.CONFIRMED: "confirmed by the run",
    Status.SUSPECTED: "suspected",
    Status.UNVERIFIED: "unverified",
    Status.REFUTED: "refuted by the run",
}

_CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 24px 48px;color:#222;
line-height:1.45}
h1{font-size:1.5em;margin:24px 0 4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:36px}
nav a{margin-right:14px}code,.mono{font-family:ui-monospace,monospace;font-size:.92em}
.meta{color:#555}.note{color:#555;font-style:italic}.empty{color:#777;font-style:italic}
.finding{border-left:4px solid #999;padding:4px 12px;margin:10px 0;background:#fafafa}
.finding.confirmed{border-color:#d62728}.finding.unverified{border-color:#ff7f0e}
.finding.suspected{border-color:#ff7f0e}.finding.refuted{border-color:#2ca02c}
.finding .ev{margin:4px 0 0 0;padding-left:18px;color:#333}.badge{font-weight:bold}
.legend{margin:4px 0 12px}.legend span{margin-right:16px;white-space:nowrap}
.swatch{display:inline-block;width:18px;height:10px;margin-right:5px;vertical-align:middle}
.swatch.line{height:0}table{border-collapse:collapse;margin:8px 0}
td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left;font-size:.92em}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{vertical-align:middle}.shows{font-size:.92em;color:#444}svg{max-width:100%;height:auto}
"""


def render_html(report: "TraceReport") -> str:
    """The whole page: a header, then every section in `SECTIONS` order."""
    anchors = _finding_anchors(report.diagnostics)
    shown_in: Dict[str, List[Tuple[str, Diagnostic]]] = {}
    for d, anchor in anchors:
        plot = plot_of(d, report)
        if plot is not None:
            shown_in.setdefault(plot, []).append((anchor, d))
    body = [
        _header(report),
        _findings(report, anchors),
        _section("loss", _loss(report), shown_in),
        _section("grad-norms", _grad_norms(report), shown_in),
        _section("activations", _activations(report), shown_in),
        _section("update-ratios", _update_ratios(report), shown_in),
        _section("lr-find", _lr_find(report), shown_in),
        _section("baseline", _baseline(report), shown_in),
    ]
    title = escape(f"trainlint trace {report.target}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def plot_of(d: Diagnostic, report: "TraceReport") -> Optional[str]:
    """The section whose plot shows `d`'s evidence (None: no plot does)."""
    plot = _PLOT_OF.get(d.code)
    if d.code == "TL501" and report.range_test is not None:
        return "lr-find"  # with --lr-find, TL501 is judged by the range test
    return plot


def _finding_anchors(diagnostics: Sequence[Diagnostic]) -> List[Tuple[Diagnostic, str]]:
    return [(d, f"finding-{i}") for i, d in enumerate(diagnostics, 1)]


# ---------------------------------------------------------------------- header and findings
def _header(report: "TraceReport") -> str:
    ev = report.evidence
    losses = report.losses()
    counts = ", ".join(
        f"{len(report.by_status(s))} {s.value}" for s in (Status.CONFIRMED, Status.UNVERIFIED, Status.REFUTED)
    )
    facts = f"{report.steps_completed} optimizer step(s), {ev.backwards} backward pass(es)"
    seed = ev.start.seed if ev.start is not None else None
    facts += f", seeded with {seed}" if seed is not None else ", not seeded by the tracer"
    if losses:
        facts += f", loss {fmt(losses[0])} → {fmt(losses[-1])}"
    nav = " ".join(f'<a href="#{sid}">{escape(title)}</a>' for sid, title in SECTIONS)
    notes = "".join(f'<li class="note">{escape(n)}</li>' for n in report.all_notes())
    notes += "".join(
        f'<li class="note">tracer problem in {escape(r.where)}: {escape(r.error)}</li>' for r in ev.internal[:3]
    )
    fatal = f"<p><b>{escape(ev.fatal.message)}</b></p>" if ev.fatal else ""
    return (
        f"<header><h1>trainlint trace <code>{escape(report.target)}</code></h1>"
        f'<p class="meta">{escape(outcome_line(report))} ({escape(fmt(round(ev.duration, 1)))} s); '
        f"{escape(facts)}; {escape(counts)}</p>{fatal}"
        + (f"<ul>{notes}</ul>" if notes else "")
        + f"<nav>{nav}</nav></header>"
    )


def _findings(report: "TraceReport", anchors: List[Tuple[Diagnostic, str]]) -> str:
    out = ['<section id="findings"><h2>Findings</h2>']
    if not anchors:
        out.append('<p class="empty">no findings: every suspicion was refuted and the run showed nothing wrong</p>')
    groups: List[Tuple[str, List[Tuple[Diagnostic, str]]]] = [
        ("problems with the run", [(d, a) for d, a in anchors if about_the_run(d)])
    ]
    for status in (Status.CONFIRMED, Status.SUSPECTED, Status.UNVERIFIED, Status.REFUTED):
        groups.append(
            (_STATUS_TITLES[status], [(d, a) for d, a in anchors if not about_the_run(d) and d.status == status])
        )
    for title, group in groups:
        if group:
            out.append(f"<h3>{escape(title)} ({len(group)})</h3>")
            out += [_finding(d, anchor, plot_of(d, report)) for d, anchor in group]
    out.append("</section>")
    return "".join(out)


def _finding(d: Diagnostic, anchor: str, plot: Optional[str]) -> str:
    lines = "".join(f"<li>{escape(line)}</li>" for line in evidence_lines(d.evidence or {}))
    titles = dict(SECTIONS)
    link = (
        f'<p class="shows">evidence plotted in <a href="#{plot}">{escape(titles[plot])}</a></p>'
        if plot is not None
        else '<p class="shows">no plot shows this evidence: it is the text above</p>'
    )
    return (
        f'<div class="finding {escape(d.status.value)}" id="{anchor}">'
        f'<div><span class="badge">{escape(d.code)}</span> {escape(d.name)} '
        f'<span class="mono">{escape(f"{d.path}:{d.span.line}:{d.span.column}")}</span></div>'
        f"<div>{escape(d.message)}</div>" + (f'<ul class="ev">{lines}</ul>' if lines else "") + link + "</div>"
    )


def _section(sid: str, content: str, shown_in: Dict[str, List[Tuple[str, Diagnostic]]]) -> str:
    title = dict(SECTIONS)[sid]
    backlinks = shown_in.get(sid, [])
    shows = (
        '<p class="shows">findings this plot shows: '
        + ", ".join(f'<a href="#{a}">{escape(d.code)} {escape(d.name)}</a>' for a, d in backlinks)
        + "</p>"
        if backlinks
        else ""
    )
    return f'<section id="{sid}"><h2>{escape(title)}</h2>{shows}{content}</section>'


def _not_collected(what: str, why: str) -> str:
    return f'<p class="empty">not collected: {escape(what)} {escape(why)}</p>'


# ---------------------------------------------------------------------- loss
def _loss(report: "TraceReport") -> str:
    ev = report.evidence
    if ev.lr_find:
        pts = ev.lr_points
        raw = [(float(p.step), _value(p.loss)) for p in pts if p.loss is not None]
        smooth = [(float(p.step), _value(p.smoothed)) for p in pts if p.smoothed is not None]
        series = [
            Series("loss given to backward", raw, "#9ecae1", 1.2),
            Series("smoothed loss", smooth, "#1f77b4", 2.0, False),
        ]
        x_label = "range-test step (the rate rises each step: see the range test below)"
    else:
        raw = _step_losses(ev.steps)
        series = [Series("loss given to backward", raw)]
        x_label = "optimizer step (several backward passes in a step are spread over it)"
    if not raw:
        return _not_collected("no loss was seen", "(no backward pass completed an optimizer step)")
    raw, note = _thin(raw)
    if note:
        series[0].points = raw
    for s in series[1:]:
        s.points, _ = _thin(s.points)
    finite_vals = [y for _, y in raw if math.isfinite(y)]
    log_y = bool(finite_vals) and min(finite_vals) > 0 and max(finite_vals) / min(finite_vals) > 100
    chart = Chart(series, x_label, "loss" + (" (log scale)" if log_y else ""), log_y=log_y, integer_x=True)
    bad = len(raw) - len(finite_vals)
    extra = f'<p class="note">{bad} loss value(s) were NaN or Inf (× at the top)</p>' if bad else ""
    return charts.line_chart(chart) + extra + (f'<p class="note">{escape(note)}</p>' if note else "")


def _step_losses(steps: Sequence[StepRecord]) -> List[Tuple[float, float]]:
    out = []
    for s in sorted(steps, key=lambda s: s.step):
        n = len(s.losses)
        for j, v in enumerate(s.losses):
            out.append((s.step - 1 + (j + 1) / n, _value(v)))
    return out


def _value(v: object) -> float:
    f = as_float(v)
    return f if f is not None else float("nan")


def _thin(points: List[Tuple[float, float]]) -> Tuple[List[Tuple[float, float]], str]:
    if len(points) <= MAX_POINTS:
        return points, ""
    every = math.ceil(len(points) / MAX_POINTS)
    return points[::every], f"{len(points)} values: every {every}th is plotted"


# ---------------------------------------------------------------------- gradient norms
def _layer_rows(report: "TraceReport") -> List[Tuple[Tuple[int, int], ParamInfo]]:
    """(optimizer, parameter index) and its description, input side first."""
    rows = []
    for opt_index, opt in sorted(report.evidence.optimizers.items()):
        for p in opt.params:
            rows.append(((opt_index, p.i), p))
    # Forward order of the layer first (parameters of layers never seen in a forward pass
    # last). Only weights carry the order: a layer's other parameters take its weight's.
    layer_order = {p.module: p.order for _, p in rows if p.order is not None and p.module}
    rows.sort(key=lambda r: (_order(r[1], layer_order), r[0]))
    return rows


def _order(p: ParamInfo, layer_order: Dict[str, int]) -> int:
    if p.order is not None:
        return p.order
    return layer_order.get(p.module, 10**9)


def _row_name(report: "TraceReport", key: Tuple[int, int], p: ParamInfo) -> str:
    many = len(report.evidence.optimizers) > 1
    return f"{p.name} (optimizer {key[0]})" if many else p.name


def _limit_rows(
    rows: List[Tuple[Tuple[int, int], ParamInfo]], what: str
) -> Tuple[List[Tuple[Tuple[int, int], ParamInfo]], str]:
    """At most MAX_ROWS rows: weight matrices first, then evenly spaced over depth."""
    if len(rows) <= MAX_ROWS:
        return rows, ""
    total = len(rows)
    weighted = [r for r in rows if r[1].weighted]
    if weighted and len(weighted) <= MAX_ROWS:
        return weighted, f"{total} {what}: only the {len(weighted)} weight matrices of Linear/Conv layers are shown"
    pool = weighted or rows
    every = len(pool) / MAX_ROWS
    kept = [pool[int(k * every)] for k in range(MAX_ROWS)]
    return kept, f"{total} {what}: {MAX_ROWS} of them are shown, evenly spaced over depth"


def _step_columns(steps: Sequence[StepRecord]) -> Tuple[List[List[int]], str]:
    """The optimizer steps grouped into at most MAX_STEPS columns."""
    numbers = sorted({s.step for s in steps})
    if len(numbers) <= MAX_STEPS:
        return [[n] for n in numbers], ""
    size = math.ceil(len(numbers) / MAX_STEPS)
    groups = [numbers[k : k + size] for k in range(0, len(numbers), size)]
    return groups, f"{len(numbers)} steps: each column is {size} consecutive steps (their geometric mean)"


def _grad_norms(report: "TraceReport") -> str:
    ev = report.evidence
    if ev.lr_find:
        return _not_collected(
            "per-layer gradient norms", "(the range test's steps are not instrumented: trace without --lr-find)"
        )
    if not ev.steps:
        return _not_collected("per-layer gradient norms", "(the run took no optimizer step)")
    rows, row_note = _limit_rows(_layer_rows(report), "parameters")
    if not rows:
        return _not_collected("per-layer gradient norms", "(no optimizer parameters were recorded)")
    groups, col_note = _step_columns(ev.steps)
    per_step = {(s.optimizer, s.step): {p.i: p for p in s.params} for s in ev.steps}
    values: List[List[Optional[float]]] = []
    for (opt, i), _ in rows:
        row: List[Optional[float]] = []
        for group in groups:
            got = [as_float(per_step[(opt, n)][i].grad) for n in group if i in per_step.get((opt, n), {})]
            row.append(_geo_mean([g for g in got if g is not None]))
        values.append(row)
    labels = [str(g[0]) if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups]
    grid = Grid([_row_name(report, k, p) for k, p in rows], labels, values)
    totals = [(float(s.step), _value(s.grad_total)) for s in ev.steps if s.grad_total is not None]
    total_line = ""
    if totals:
        shown = ", ".join(f"step {int(x)}: {fmt(y)}" for x, y in totals[:12]) + (", …" if len(totals) > 12 else "")
        total_line = f"<p>total gradient norm: {escape(shown)}</p>"
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in (row_note, col_note) if n)
    return (
        "<p>Each row is a parameter, input side at the top; each cell the norm of its gradient at that "
        "step, coloured by log10. A gradient that vanishes shows as rows darkening towards the input; "
        "one that explodes, as rows brightening. Grey: no gradient reached it; pink: NaN or Inf.</p>"
        + charts.heat_map(grid)
        + total_line
        + notes
    )


def _geo_mean(values: List[float]) -> Optional[float]:
    if not values:
        return None
    if any(not math.isfinite(v) for v in values):
        return next(v for v in values if not math.isfinite(v))
    positive = [v for v in values if v > 0]
    if len(positive) < len(values):
        return 0.0 if not positive else min(values)
    return 10 ** statistics.fmean(math.log10(v) for v in positive)


# ---------------------------------------------------------------------- activations
def _activations(report: "TraceReport") -> str:
    ev = report.evidence
    if ev.lr_find:
        return _not_collected(
            "activation statistics", "(the range test's steps are not instrumented: trace without --lr-find)"
        )
    layers = sorted(ev.act_std, key=lambda r: r.order)
    acts = list(ev.activations.layers) if ev.activations is not None else []
    if not layers and not acts:
        return _not_collected(
            "activation statistics", "(no training forward pass went through a Linear/Conv layer or an activation)"
        )
    head = (
        "<tr><th>layer</th><th>kind</th><th>output mean</th><th>output std</th><th>fraction zero</th>"
        "<th>dead units</th><th>fraction saturated</th></tr>"
    )
    rows = []
    for r in layers[:MAX_ROWS]:
        rows.append(
            f'<tr><td class="mono">{escape(r.module)}</td><td>weighted layer (first training pass)</td>'
            f'<td class="num">{escape(fmt(r.mean)) if r.mean is not None else "—"}</td>'
            f'<td class="num">{escape(fmt(r.std))}</td><td>—</td><td>—</td><td>—</td></tr>'
        )
    for a in acts[:MAX_ROWS]:
        rows.append(
            f'<tr><td class="mono">{escape(a.name)}</td><td>{escape(a.activation)} ({a.calls} call(s))</td>'
            f"<td>—</td><td>—</td><td>{charts.fraction_bar(as_float(a.zero_fraction), 0.9)}</td>"
            f"<td>{charts.fraction_bar(as_float(a.dead_fraction))}</td>"
            f"<td>{charts.fraction_bar(as_float(a.saturated_fraction))}</td></tr>"
        )
    cut = len(layers) > MAX_ROWS or len(acts) > MAX_ROWS
    std_chart = ""
    finite_std = [(float(r.order), _value(r.std)) for r in layers]
    if len(finite_std) >= 2:
        std_chart = charts.line_chart(
            Chart(
                [Series("output std by depth", finite_std, "#9467bd")],
                "Linear/Conv layer, in forward order",
                "output std (log scale)",
                log_y=all(y > 0 for _, y in finite_std if math.isfinite(y)),
                height=220,
                integer_x=True,
            )
        )
    return (
        "<p>Mean and std of each Linear/Conv layer's output in the first training pass (an std that "
        "shrinks or grows layer after layer is a poor initialisation). For activations over the traced "
        "steps: the fraction of outputs that are zero (ReLU; a conv channel counts as zero in a sample when "
        "its whole map is), of units dead (active in under 1% of the samples) and of outputs saturated "
        "(sigmoid, tanh).</p>"
        + std_chart
        + f"<table>{head}{''.join(rows)}</table>"
        + (f'<p class="note">only the first {MAX_ROWS} layers of each kind are listed</p>' if cut else "")
    )


# ---------------------------------------------------------------------- update ratios
def _update_ratios(report: "TraceReport") -> str:
    ev = report.evidence
    if ev.lr_find:
        return _not_collected(
            "update/weight ratios", "(the range test's steps are not instrumented: trace without --lr-find)"
        )
    if not ev.steps:
        return _not_collected("update/weight ratios", "(the run took no optimizer step)")
    rows_all = _layer_rows(report)
    weighted = [r for r in rows_all if r[1].weighted]
    rows, note = _limit_rows(weighted or rows_all, "weights" if weighted else "parameters")
    per_step = {(s.optimizer, s.step): {p.i: p for p in s.params} for s in ev.steps}
    out: List[RatioRow] = []
    for (opt, i), p in rows:
        ratios = []
        for (o, _), params in sorted(per_step.items()):
            entry = params.get(i) if o == opt else None
            if entry is None:
                continue
            d, w = as_float(entry.delta), as_float(entry.w)
            if d is not None and w is not None and math.isfinite(d) and math.isfinite(w) and w > 0 and d > 0:
                ratios.append(d / w)
        if ratios:
            out.append(RatioRow(_row_name(report, (opt, i), p), ratios[-MAX_STEPS:], statistics.median(ratios)))
    if not out:
        return _not_collected("update/weight ratios", "(no step changed a weight by a finite, non-zero amount)")
    which = "weight matrix of a Linear/Conv layer" if weighted else "parameter"
    return (
        f"<p>Each row is a {which}, input side at the top: small dots are each step's ||dw||/||w||, the large "
        "dot their median (red outside TL909's thresholds). Ratios around 1e-3 are the usual sign of a "
        "well-chosen learning rate.</p>"
        + charts.ratio_plot(out, report.update_band)
        + (f'<p class="note">{escape(note)}</p>' if note else "")
    )


# ---------------------------------------------------------------------- range test
def _lr_find(report: "TraceReport") -> str:
    rt = report.range_test
    if rt is None:
        return _not_collected("no range test ran", "(run `trainlint trace --lr-find SCRIPT --report FILE` for one)")
    pts = rt.points
    raw = [(p.lr, _value(p.loss)) for p in pts if p.loss is not None]
    smooth = [(p.lr, _value(p.smoothed)) for p in pts if p.smoothed is not None]
    lines = "".join(f"<li>{escape(line.strip())}</li>" for line in text_lines(rt, report.where, report.range_factor))
    if not raw:
        return f"<ul>{lines}</ul>" + _not_collected("the range test's losses", "(no step gave a loss)")
    markers: List[Marker] = []
    s = rt.suggestion
    if s is not None:
        markers.append(Marker(s.low, f"suggested range {fmt(s.low)} to {fmt(s.high)}", "#2ca02c", x2=s.high))
        if s.steepest is not None:
            markers.append(Marker(s.steepest, f"steepest descent {fmt(s.steepest)}", "#2ca02c"))
        markers.append(Marker(s.minimum, f"lowest smoothed loss at {fmt(s.minimum)}", "#7f7f7f"))
    if rt.divergence_lr is not None:
        markers.append(Marker(rt.divergence_lr, f"diverged at {fmt(rt.divergence_lr)}", "#8c564b"))
    ref = rt.reference
    configured = _configured(rt, ref)
    if configured is not None:
        markers.append(Marker(configured, f"the script's lr {fmt(configured)}", "#d62728", solid=True))
    finite_smooth = [y for _, y in smooth if math.isfinite(y)]
    # The divergence would squash the curve: the axis stops a little above the smoothed loss's start.
    top = max(finite_smooth[:3]) * 1.5 if finite_smooth else None
    chart = Chart(
        [Series("loss", raw, "#9ecae1", 1.0), Series("smoothed loss", smooth, "#1f77b4", 2.2, False)],
        "learning rate (log scale)",
        "loss",
        log_x=True,
        markers=markers,
        y_top=top,
    )
    return charts.line_chart(chart) + f"<ul>{lines}</ul>"


def _configured(rt: RangeTest, ref: Optional[LrFindOptimizer]) -> Optional[float]:
    """The script's own rate for the reference param group, where it is positive."""
    if ref is None:
        return None
    cmp = compare(rt, ref)
    if cmp is not None:
        return cmp.configured
    first = next((as_float(v) for v in ref.configured if v is not None), None)
    return first if first is not None and first > 0 else None


# ---------------------------------------------------------------------- baseline
def _baseline(report: "TraceReport") -> str:
    c = report.comparison
    if c is None:
        return _not_collected("a comparison", "(trace with --baseline FILE, a run saved by --save)")
    lines = "".join(f"<li>{escape(line.strip())}</li>" for line in c.lines()[1:])
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(v))}</td>"
            for v in (
                "first pass" if d.step is None else d.step,
                d.layer or "",
                d.what,
                fmt(d.value),
                fmt(d.baseline),
            )
        )
        + "</tr>"
        for d in c.forward + c.losses + c.backward
    )
    table = (
        '<table class="mono"><tr><th>step</th><th>layer</th><th>value</th><th>this run</th><th>baseline</th></tr>'
        + rows
        + "</table>"
        if rows
        else ""
    )
    return f"<p>Compared with <code>{escape(c.path)}</code>, aligned by layer name.</p><ul>{lines}</ul>{table}"
