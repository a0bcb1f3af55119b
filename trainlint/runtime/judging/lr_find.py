"""The learning-rate range test read back (`trace --lr-find`): the curve, the rates it suggests,
and how the script's configured rate compares with them (no torch).

The suggestion follows Smith's range test: the rate where the smoothed loss falls fastest
(the steepest descent, against log lr), and a tenth of the rate where it diverged. When the
loss never diverged within the tested rates, a tenth of the rate at its minimum stands in for
the second. The range runs from the lower of the two to the higher.

With several param groups or optimizers, every rate was scaled together, keeping the ratios the
script set between them; the curve's rate is the first group's of the first optimizer that
stepped (the reference), and the range is in that rate. Another optimizer's range is the same
range times its ratio to the reference.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted
from trainlint.runtime.judging.evidence import Evidence, finite
from trainlint.runtime.records import CodeSite, LrFindOptimizer, LrFindPoint, LrFindStart, StopReason

# The static rule whose suspicion the range test confirms or refutes.
JUDGED = "TL501"
# The runtime-only rules that read a range test (the others need the instrumented steps).
CHECKS = ("TL914",)
# The defaults of TL914's options (its rule file declares them; the report reads them here too).
OUTSIDE_FACTOR = 10.0
MIN_POINTS = 10
MIN_FALL = 0.05

STOPPED_DIVERGED, STOPPED_STEPS, STOPPED_ENDED = "diverged", "steps", "script ended"


@dataclass
class Suggestion:
    """Rates in the reference group's terms."""

    steepest: Optional[float]  # steepest descent of the smoothed loss
    divergence_tenth: Optional[float]  # a tenth of the rate where the loss diverged
    minimum: float  # the rate at the smoothed loss's minimum
    descent_start: float  # the rate where the smoothed loss had clearly begun to fall
    low: float
    high: float

    @property
    def upper_from_minimum(self) -> bool:
        """No divergence: the upper candidate is a tenth of the minimum's rate."""
        return self.divergence_tenth is None


@dataclass
class Comparison:
    """One optimizer's configured rate against the suggested range (scaled to that optimizer)."""

    optimizer: LrFindOptimizer
    configured: float
    low: float
    high: float
    side: str  # "above", "below", "inside", "near" (outside, within the factor), "slow" (see `compare`)
    times: float  # how many times outside the range (1.0 inside it)
    initial: Optional[float] = None  # a scheduler's `initial_lr`, when it differs
    descent_start: float = 0.0  # where the loss had begun to fall, scaled to this optimizer
    factor: float = OUTSIDE_FACTOR

    @property
    def outside(self) -> bool:
        return self.side in ("above", "below")


@dataclass
class RangeTest:
    start: LrFindStart
    points: List[LrFindPoint]
    optimizers: List[LrFindOptimizer]
    stopped: str
    divergence_lr: Optional[float] = None
    suggestion: Optional[Suggestion] = None
    why_none: str = ""  # why there is no suggestion
    notes: List[str] = field(default_factory=list)

    @property
    def reference(self) -> Optional[LrFindOptimizer]:
        return next((o for o in self.optimizers if o.reference), None)

    @property
    def step_seconds(self) -> Optional[float]:
        """Median wall time of a range-test step (the first, which includes start-up, left out)."""
        times = [p.seconds for p in self.points[1:]]
        return statistics.median(times) if times else None


def range_test(ev: Evidence, options: Optional[Dict[str, Any]] = None) -> Optional[RangeTest]:
    """The range test of a `--lr-find` run (None for an ordinary trace); `options` are TL914's."""
    o = options or {}
    start = ev.lr_start
    if start is None:
        return None
    stop = ev.stop
    if stop is not None and stop.reason == StopReason.DIVERGED:
        stopped = STOPPED_DIVERGED
    elif stop is not None and stop.reason == StopReason.STEPS:
        stopped = STOPPED_STEPS
    else:
        stopped = STOPPED_ENDED
    points = sorted(ev.lr_points, key=lambda p: p.step)
    optimizers = sorted(ev.lr_optimizers.values(), key=lambda o: o.optimizer)
    rt = RangeTest(start=start, points=points, optimizers=optimizers, stopped=stopped)
    if stopped == STOPPED_DIVERGED and points:
        rt.divergence_lr = points[-1].lr
    if stopped == STOPPED_ENDED and points:
        rt.notes.append(
            f"the script ended after {len(points)} of {start.steps} range-test step(s): the test rests on those"
        )
    if any(o.initial for o in rt.optimizers):
        rt.notes.append(
            "the script's learning-rate scheduler was overridden: the test set every rate right before each step"
        )
    if len(rt.optimizers) > 1 or any(len(o.configured) > 1 for o in rt.optimizers):
        rt.notes.append(_scaling_note(rt))
    rt.suggestion, rt.why_none = _suggest(rt, int(o.get("min_points", MIN_POINTS)), float(o.get("min_fall", MIN_FALL)))
    return rt


def _scaling_note(rt: RangeTest) -> str:
    ref = rt.reference
    if ref is not None and any(s not in (None, 1.0) for o in rt.optimizers for s in o.scale):
        return (
            "every param group of every optimizer was scaled together, keeping the ratios the script set; "
            f"the rates shown are those of the first group of {ref.name} (optimizer {ref.optimizer})"
        )
    return "every param group of every optimizer was given the same rate (the script set no ratio between them)"


def _suggest(rt: RangeTest, min_points: int, min_fall: float) -> Tuple[Optional[Suggestion], str]:
    if not rt.points:
        if not rt.optimizers:
            return None, "no optimizer step was taken: the range test needs a torch.optim optimizer"
        return None, "the range test recorded no step"
    # A point with a finite smoothed loss has a finite loss (the EMA takes only those).
    kept = [p for p in rt.points if finite(p.smoothed) and finite(p.loss)]
    curve = [(p.lr, float(p.smoothed or 0.0)) for p in kept]
    if len(curve) < min_points:
        if all(p.loss is None for p in rt.points):
            return None, "no loss was given to backward in the steps: there is no loss curve to read"
        return None, (
            f"only {len(curve)} step(s) with a finite loss: at least {min_points} are needed to suggest a range "
            "(give more --steps, or a lower --lr-min if the loss diverged at once)"
        )
    n = len(curve)
    lowest = min(range(n), key=lambda i: curve[i][1])
    # No rate can be suggested unless the loss fell: the mean of the losses up to the smoothed
    # minimum (the EMA lags, so its minimum follows theirs) against the first steps' level.
    raw = [float(p.loss or 0.0) for p in kept]
    level, margin, w = _fall(raw, min_fall)
    if statistics.fmean(raw[max(0, lowest + 1 - w) : lowest + 1]) >= level - margin:
        return None, _never_fell(rt, curve, lowest < _skip(n) and rt.stopped == STOPPED_DIVERGED, min_fall)
    beta = rt.start.beta
    falling = next((i for i in range(_skip(n), n) if curve[i][1] < level - margin), lowest)
    descent_start = curve[max(0, falling - round(ema_lag(beta, falling + 1)))][0]
    steepest = _steepest(curve, lowest, beta)
    divergence_tenth = rt.divergence_lr / 10.0 if rt.divergence_lr is not None else None
    upper = divergence_tenth if divergence_tenth is not None else curve[lowest][0] / 10.0
    candidates = [x for x in (steepest, upper) if x is not None]
    return (
        Suggestion(
            steepest=steepest,
            divergence_tenth=divergence_tenth,
            minimum=curve[lowest][0],
            descent_start=descent_start,
            low=min(candidates),
            high=max(candidates),
        ),
        "",
    )


def _steepest(curve: List[Tuple[float, float]], lowest: int, beta: float) -> Optional[float]:
    """The rate where the smoothed loss falls fastest against log lr, before its minimum.

    The first points are left out (about 5% of the run, at least 3): the bias-corrected EMA
    averages only a few losses there, and the first batches' loss is the noisiest. The slope is
    a central difference over about 4% of the run on each side, which steadies it further.
    The EMA at step i mostly reflects earlier losses (on average `ema_lag` steps back), so the
    steepest point is read at the rate of that earlier step: otherwise the lag alone would move
    it up the range (by about 2x in a 100-step test).
    """
    n = len(curve)
    skip = _skip(n)
    h = max(1, n // 25)
    best: Optional[Tuple[float, int]] = None
    for i in range(max(skip, h), min(lowest, n - 1 - h) + 1):
        (lr_a, s_a), (lr_b, s_b) = curve[i - h], curve[i + h]
        span = math.log10(lr_b) - math.log10(lr_a)
        if span <= 0:
            continue
        slope = (s_b - s_a) / span
        if slope < 0 and (best is None or slope < best[0]):
            best = (slope, i)
    if best is None:
        return None
    i = best[1]
    return curve[max(0, i - round(ema_lag(beta, i + 1)))][0]


def ema_lag(beta: float, k: int) -> float:
    """How many steps back, on average, the bias-corrected EMA of `k` losses looks: its weights
    are beta**j on the loss j steps back, for j < k."""
    weights = [beta**j for j in range(k)]
    return sum(j * w for j, w in enumerate(weights)) / sum(weights)


def _fall(raw: List[float], min_fall: float) -> Tuple[float, float, int]:
    """(level, margin, w): the loss has fallen where it is below `level - margin`. The level is
    the mean raw loss of the first tenth of the run (w steps, at least 3); the margin is
    `min_fall` of its size, or twice the noise of a mean of w losses (the first steps'
    spread) when that is larger, so that a flat but noisy curve (batches of unequal
    difficulty) is not read as a descent."""
    n = len(raw)
    w = min(n, max(3, n // 10))
    first = raw[:w]
    level = statistics.fmean(first)
    noise = statistics.stdev(first) * math.sqrt(2.0 / w) if w > 1 else 0.0
    return level, max(min_fall * abs(level), 2.0 * noise), w


def _skip(n: int) -> int:
    """The first points of a curve of `n` left out of the search (about 5% of it, at least 3)."""
    return min(n - 1, max(3, n // 20))


def _never_fell(rt: RangeTest, curve: List[Tuple[float, float]], at_once: bool, min_fall: float) -> str:
    tried = f"lr {fmt(curve[0][0])} to {fmt(curve[-1][0])}"
    if at_once:
        return (
            f"the smoothed loss was lowest in the first steps, then diverged ({tried}): "
            "even the lowest rates were too high; give a lower --lr-min"
        )
    why = f"the smoothed loss never fell by more than {fmt(min_fall * 100)}% over the rates tried ({tried})"
    if rt.stopped == STOPPED_ENDED:
        return f"{why}, and the script ended before higher rates were reached: give fewer --steps or a higher --lr-min"
    return f"{why}: give a higher --lr-max, or look for what keeps the loss from falling (trace without --lr-find)"


def _first(values: List[Any]) -> Optional[float]:
    v = values[0] if values else None
    return float(v) if finite(v) else None


def compare(rt: RangeTest, opt: LrFindOptimizer, factor: float = OUTSIDE_FACTOR) -> Optional[Comparison]:
    """`opt`'s configured rate against the suggested range, scaled to it; None when there is no
    suggestion or no positive configured rate (a rate of 0 is a choice, not a bad value).

    When a scheduler gave the first step another rate than the one the script configured
    (`initial_lr`: a warm-up's fraction of it, or a Noam schedule's product with `lr=1`), the
    rate counts as outside only when both are outside on the same side."""
    s = rt.suggestion
    configured = _first(opt.configured)
    scale = _first(opt.scale)
    if s is None or configured is None or configured <= 0 or scale is None or scale <= 0:
        return None
    lo, hi = s.low * scale, s.high * scale
    initial = _first(opt.initial)
    rates = [configured] + ([initial] if initial is not None and initial > 0 and initial != configured else [])
    start = s.descent_start * scale
    if all(r > hi * factor for r in rates):
        side, times = "above", min(r / hi for r in rates)
    elif all(r < lo / factor for r in rates):
        # The range's low end, the steepest descent, sits high in a short test (a rate that
        # needs many steps shows little in a few), so "too low" also needs the test to show
        # that the loss had not begun to fall yet at that rate.
        side = "below" if all(r < start for r in rates) else "slow"
        times = min(lo / r for r in rates)
    elif lo <= configured <= hi:
        side, times = "inside", 1.0
    else:
        side, times = "near", max(configured / hi, lo / configured)
    return Comparison(
        opt,
        configured,
        lo,
        hi,
        side,
        times,
        initial=initial if initial is not None and initial != configured else None,
        descent_start=start,
        factor=factor,
    )


def describe(c: Comparison) -> str:
    """The configured rate and the range, in words."""
    rng = f"{fmt(c.low)} to {fmt(c.high)}"
    rate = f"lr {fmt(c.configured)}" + (f" (scheduled from {fmt(c.initial)})" if c.initial is not None else "")
    if c.side == "inside":
        return f"{rate} is inside the range the test suggests ({rng})"
    if c.side == "near":
        return f"{rate} is within {fmt(c.factor)}x of the range the test suggests ({rng})"
    if c.side == "slow":
        return (
            f"{rate} is {fmt(c.times)}x below the range the test suggests ({rng}), but the loss had begun to "
            f"fall by lr {fmt(c.descent_start)}: a slow rate rather than one too small to train"
        )
    return f"{rate} is {fmt(c.times)}x {c.side} the range the test suggests ({rng})"


def what_the_loss_did(rt: RangeTest) -> str:
    """Where the loss fell fastest and where it diverged, for messages."""
    s = rt.suggestion
    parts = []
    if s is not None and s.steepest is not None:
        parts.append(f"the loss fell fastest at lr {fmt(s.steepest)}")
    if rt.divergence_lr is not None:
        parts.append(f"diverged at lr {fmt(rt.divergence_lr)}")
    elif s is not None:
        parts.append(f"was lowest at lr {fmt(s.minimum)} without diverging up to {fmt(rt.points[-1].lr)}")
    return " and ".join(parts)


def optimizer_at(c: Ctx, rt: RangeTest, d: Diagnostic) -> Optional[LrFindOptimizer]:
    """The optimizer built at the diagnostic's line (the reference when none was located there)."""
    here = [o for o in rt.optimizers if c.at(d, o.site)]
    return here[0] if here else rt.reference


def verdict_by_range_test(c: Ctx, d: Diagnostic) -> Tuple[Optional[Verdict], Optional[str]]:
    """How a `--lr-find` run judges a static suspicion: TL501 by the range test; the others stay
    unverified, since the run's rates were the test's, not the script's."""
    if d.code != JUDGED:
        return None, (
            "the range test (--lr-find) trains at rates it sets itself; trace without --lr-find to judge this rule"
        )
    o = c.opts("TL914")
    rt = range_test(c.ev, o)
    if rt is None:
        return None, "no range test ran"
    if rt.suggestion is None:
        return None, f"the range test suggested no range: {rt.why_none}"
    opt = optimizer_at(c, rt, d)
    cmp = compare(rt, opt, float(o.get("outside_factor", OUTSIDE_FACTOR))) if opt is not None else None
    if cmp is None:
        return None, "the optimizer's configured rate could not be compared with the range test's"
    observed = f"range test: {describe(cmp)}; {what_the_loss_did(rt)}"
    if cmp.outside:
        return confirmed(observed=observed, expected=_expected(cmp), runtime_finding="TL914", **_fields(rt, cmp)), None
    return refuted(observed=observed, **_fields(rt, cmp)), None


def _expected(cmp: Comparison) -> str:
    return f"within {fmt(cmp.factor)}x of {fmt(cmp.low)} to {fmt(cmp.high)}"


def _fields(rt: RangeTest, cmp: Comparison) -> Dict[str, Any]:
    return {
        "configured_lr": cmp.configured,
        "suggested_low": cmp.low,
        "suggested_high": cmp.high,
        "times_outside": None if cmp.side == "inside" else cmp.times,
    }


# ---------------------------------------------------------------------- the report's parts
def to_json(
    rt: RangeTest, where: Callable[[Optional[CodeSite]], Optional[str]], factor: float = OUTSIDE_FACTOR
) -> Dict[str, Any]:
    """`trace.lr_find` of the JSON report (the README documents every key); `where(site)`
    shows an optimizer's line."""
    s = rt.suggestion
    ref = rt.reference
    cmp = compare(rt, ref, factor) if ref is not None else None
    out: Dict[str, Any] = {
        "min_lr": rt.start.min_lr,
        "max_lr": rt.start.max_lr,
        "steps": rt.start.steps,
        "steps_done": len(rt.points),
        "stopped": rt.stopped,
        "divergence_lr": rt.divergence_lr,
        "suggested": None
        if s is None
        else {
            "steepest": s.steepest,
            "divergence_tenth": s.divergence_tenth,
            "minimum": s.minimum,
            "descent_start": s.descent_start,
            "low": s.low,
            "high": s.high,
        },
        "configured": _first(ref.configured) if ref is not None else None,
        "initial_lr": _first(ref.initial) if ref is not None else None,
        "comparison": None if cmp is None else {"side": cmp.side, "times": cmp.times},
        "optimizers": [
            {
                "optimizer": o.optimizer,
                "name": o.name,
                "where": where(o.site),
                "configured": list(o.configured),
                "initial_lr": list(o.initial) or None,
                "scale": list(o.scale),
                "reference": o.reference,
            }
            for o in rt.optimizers
        ],
        "smoothing": {"method": "bias-corrected exponential moving average", "beta": rt.start.beta},
        "divergence_factor": rt.start.divergence_factor,
        "step_seconds": rt.step_seconds,
        "curve": [[p.lr, p.loss, p.smoothed] for p in rt.points],
    }
    if s is None:
        out["message"] = rt.why_none
    return out


def text_lines(
    rt: RangeTest, where: Callable[[Optional[CodeSite]], Optional[str]], factor: float = OUTSIDE_FACTOR
) -> List[str]:
    """The report's range-test lines; `where(site)` shows an optimizer's line."""
    start, pts = rt.start, rt.points
    head = f"lr range test: lr {fmt(start.min_lr)} -> {fmt(start.max_lr)} over {start.steps} step(s), "
    if rt.stopped == STOPPED_DIVERGED and pts:
        head += f"stopped when the loss diverged at step {pts[-1].step} (lr {fmt(pts[-1].lr)})"
    elif rt.stopped == STOPPED_STEPS:
        head += "no divergence"
    else:
        head += f"the script ended after {len(pts)} step(s)"
    lines = [head]
    s = rt.suggestion
    if s is None:
        lines.append(f"  no suggested range: {rt.why_none}")
    else:
        basis = [f"steepest descent at {fmt(s.steepest)}" if s.steepest is not None else "no steepest descent found"]
        if s.divergence_tenth is not None:
            basis.append(f"a tenth of the divergence point: {fmt(s.divergence_tenth)}")
        else:
            basis.append(f"no divergence: a tenth of the minimum's rate, {fmt(s.minimum / 10.0)}")
        lines.append(f"  suggested lr: {fmt(s.low)} to {fmt(s.high)} ({'; '.join(basis)})")
    ref = rt.reference
    if ref is not None:
        shown = where(ref.site)
        at = f"{ref.name}" + (f" at {shown}" if shown else "")
        cmp = compare(rt, ref, factor)
        configured = _first(ref.configured)
        if cmp is not None:
            lines.append(f"  configured ({at}): {describe(cmp)}")
        elif configured is not None:
            lines.append(f"  configured ({at}): lr {fmt(configured)}")
    finite_pts = [p for p in pts if finite(p.smoothed)]
    if finite_pts:
        low = min(finite_pts, key=lambda p: float(p.smoothed or 0.0))
        lines.append(
            f"  smoothed loss (bias-corrected EMA, beta {fmt(start.beta)}): {fmt(finite_pts[0].smoothed)} at lr "
            f"{fmt(finite_pts[0].lr)}, lowest {fmt(low.smoothed)} at lr {fmt(low.lr)}, last {fmt(pts[-1].smoothed)} "
            f"at lr {fmt(pts[-1].lr)}"
        )
    return lines
