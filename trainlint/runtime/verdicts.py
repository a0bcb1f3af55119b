"""Evidence -> verdict on each static suspicion: confirmed or refuted, with what was observed.

One function per rule code. A function returns None when the run never produced the evidence
it needs; the finding is then `unverified` (never dropped). A refutation always says what was
seen instead.
"""

from __future__ import annotations

import statistics
from typing import Any, Callable, Dict, List, Optional, Tuple

from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime.context import Ctx, Verdict, confirmed, fmt, num, refuted, unverified
from trainlint.runtime.evidence import finite

VerdictFn = Callable[[Ctx, Diagnostic], Optional[Verdict]]
VERDICTS: Dict[str, VerdictFn] = {}

# Rules with no runtime check: left `unverified`, saying so.
NO_RUNTIME_CHECK = {
    "TL207": "softmax's default dim is a matter of code, not of values",
    "TL604": "the tracer does not follow Python accumulators across iterations",
}
# Rules whose bug typically makes torch raise at the reported line: the error confirms them.
CONFIRMED_BY_CRASH = {"TL108", "TL203", "TL205", "TL601", "TL602", "TL603"}
# Rules judged on an evaluation pass: when one is suspected and no evaluation ran within the
# requested steps, the run goes on (watching forward passes only) for up to EVAL_WAIT_STEPS
# more optimizer steps, since scripts often evaluate once per epoch.
NEEDS_EVAL_PASS = {"TL403", "TL404", "TL405"}
EVAL_WAIT_STEPS = 200
PROBABILITY_MAKERS = {"Softmax", "Softmin", "Sigmoid", "LogSoftmax"}
SECOND_ORDER = {"LBFGS"}
SQUASHERS = {
    "ReLU",
    "ReLU6",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Hardtanh",
    "Hardsigmoid",
    "Softplus",
    "ELU",
    "GELU",
    "SiLU",
}


def verdict(code: str) -> Callable[[VerdictFn], VerdictFn]:
    def deco(fn: VerdictFn) -> VerdictFn:
        VERDICTS[code] = fn
        return fn

    return deco


def flows(c: Ctx) -> Dict[str, Dict[str, Any]]:
    """Per model: which layers took its input in the first training pass, and which weighted
    layers fed a normalisation layer directly (records of kind "flow")."""
    out: Dict[str, Dict[str, Any]] = {}
    for e in c.ev.events_of("flow"):
        out.setdefault(str(e.get("model")), e)
    return out


def input_normaliser(c: Ctx, model: Optional[str]) -> Optional[Tuple[str, str]]:
    """(layer name, type) of the normalisation layer the model's raw input goes through before
    any other layer, when it does."""
    f = flows(c).get(str(model))
    entries = (f or {}).get("input") or []
    norms = [e for e in entries if e[3]]
    if norms and all(e[3] or e[2] for e in entries):
        return norms[0][0], norms[0][1]
    return None


def _param_name(c: Ctx, step: Dict[str, Any], i: int) -> Tuple[str, Optional[str]]:
    p = c.ev.param(step.get("optimizer", 0), i)
    return p.get("name", f"param[{i}]"), c.where(p.get("site"))


# ---------------------------------------------------------------------- TL1xx: the loop
@verdict("TL101")
def missing_zero_grad(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    for s in c.ev.steps:
        for st in s.get("stale", []):
            name, where = _param_name(c, s, st.get("i", -1))
            return confirmed(
                observed=f"before the backward of step {s['opt_step']}, `{name}.grad` still held the previous "
                f"step's gradient (norm {fmt(st.get('stale_norm'))}); backward added the new one "
                f"(norm {fmt(st.get('new_norm'))}) to it, so step {s['opt_step']} used their sum",
                expected="`.grad` cleared (None or zero) before each step's backward",
                step=s["opt_step"],
                parameter=name,
                stale_grad_norm=st.get("stale_norm"),
                new_grad_norm=st.get("new_norm"),
                where=where,
            )
    manual = [m for m in c.ev.manual if m.get("backward", 0) >= 2 and num(m.get("stale_grad_norm"), 0.0) > 0]
    if manual:
        m = manual[0]
        return confirmed(
            observed=f"before backward #{m['backward']}, {m.get('stale_grads')} trained tensor(s) still "
            f"held a gradient (largest norm {fmt(m.get('stale_grad_norm'))}) from the previous pass",
            expected="gradients cleared between updates",
            backward=m["backward"],
            where=c.where(m.get("site")),
        )
    cleared = [s for s in c.ev.steps if s.get("checked_clear", 0) > 0]
    if cleared:
        s = cleared[0]
        return refuted(
            observed=f"before the backward of step {s['opt_step']}, the gradients of "
            f"{s['checked_clear']} sampled parameter(s) had been cleared",
            expected="stale gradients from the previous step (not seen)",
            step=s["opt_step"],
        )
    clean = [m for m in c.ev.manual if m.get("backward", 0) >= 2 and m.get("stale_grad_norm") == 0.0]
    if clean:
        return refuted(
            observed=f"before backward #{clean[0]['backward']} every trained tensor's gradient was cleared",
            backward=clean[0]["backward"],
        )
    return None


def _grad_state(step: Dict[str, Any]) -> Tuple[int, int, int]:
    """(parameters, parameters with a non-zero gradient, parameters that received one in backward)."""
    params = step.get("params", [])
    nonzero = sum(1 for p in params if finite(p.get("grad")) and p["grad"] > 0 or isinstance(p.get("grad"), str))
    received = sum(1 for p in params if p.get("received"))
    return len(params), nonzero, received


@verdict("TL102")
def zero_grad_before_step(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    zero_events = c.prefer(d, c.ev.events_of("zero_grad"), lambda e: e.get("site"))
    for s in c.ev.steps:
        n, nonzero, received = _grad_state(s)
        if n and s.get("backwards", 0) > 0 and nonzero == 0:
            z = next((e for e in zero_events if e.get("step") == s["step"] - 1), None)
            return confirmed(
                observed=f"at step {s['opt_step']} all {n} gradients were zero or None when `step()` ran, although "
                f"backward had run ({received} parameter(s) received a gradient)",
                expected="the gradients of the preceding backward",
                step=s["opt_step"],
                where=c.where(z.get("site")) if z else None,
            )
    for s in c.ev.steps:
        n, nonzero, _ = _grad_state(s)
        if nonzero:
            return refuted(
                observed=f"at step {s['opt_step']}, {nonzero} of {n} parameters had non-zero gradients "
                f"when `step()` ran (total norm {fmt(s.get('grad_total'))})",
                step=s["opt_step"],
            )
    return None


@verdict("TL103")
def missing_optimizer_step(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    ns = c.ev.no_step
    if ns is not None and not c.ev.steps:
        if ns.get("changed", 0) == 0:
            return confirmed(
                observed=f"{ns['backwards']} backward passes ran, `optimizer.step()` never did, and none of "
                f"the {ns.get('params')} parameters changed",
                expected="parameters updated after backward",
                backwards=ns["backwards"],
            )
        return refuted(
            observed=f"no optimizer step ran, but {ns['changed']} parameter(s) changed "
            f"(largest change {fmt(ns.get('max_delta'))})"
        )
    moved = [s for s in c.ev.steps if any(num(p.get("delta"), 0.0) > 0 for p in s.get("params", []))]
    if moved:
        s = moved[0]
        return refuted(
            observed=f"`step()` ran {len(c.ev.steps)} time(s); at step {s['opt_step']} "
            f"{sum(1 for p in s['params'] if num(p.get('delta'), 0.0) > 0)} parameter(s) changed",
            step=s["opt_step"],
        )
    pairs = [m for m in c.ev.manual if "delta_norm" in m]
    if pairs:
        if all(m.get("delta_norm") == 0.0 for m in pairs):
            return confirmed(
                observed=f"between {len(pairs) + 1} backward passes the trained tensors never changed",
                expected="an update after each backward",
            )
        return refuted(
            observed=f"the trained tensors changed between backward passes (update norm "
            f"{fmt(pairs[0].get('delta_norm'))}): they are updated by hand"
        )
    if c.ev.steps:
        return confirmed(
            observed=f"`step()` ran {len(c.ev.steps)} time(s) but no parameter changed",
            expected="parameters updated by the optimizer",
        )
    return None


@verdict("TL104")
def missing_backward(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    if not c.ev.steps:
        return None
    backwards = len(c.ev.events_of("backward")) + len(c.ev.events_of("autograd_grad"))
    with_grad = [s for s in c.ev.steps if any(p.get("grad") is not None for p in s.get("params", []))]
    if backwards == 0 and not with_grad:
        s = c.ev.steps[0]
        return confirmed(
            observed=f"`step()` ran {len(c.ev.steps)} time(s) with every `.grad` None "
            f"({len(s.get('params', []))} parameters); no `backward()` ran",
            expected="gradients from a backward pass before each step",
            steps=len(c.ev.steps),
        )
    s = with_grad[0] if with_grad else c.ev.steps[0]
    return refuted(
        observed=f"`backward()` ran {backwards} time(s); step {s['opt_step']} saw gradients for "
        f"{sum(1 for p in s.get('params', []) if p.get('grad') is not None)} parameter(s)",
        step=s["opt_step"],
    )


@verdict("TL105")
def scheduler_before_optimizer_step(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    events = c.prefer(d, c.ev.events_of("sched_step"), lambda e: e.get("site"))
    if not events:
        return None
    early = [e for e in events if e.get("since", 1) == 0]
    if early:
        e = early[0]
        return confirmed(
            observed=f"`{e.get('scheduler')}.step()` ran when its optimizer had made no step since the "
            f"scheduler's previous step (optimizer steps so far: {e.get('opt_steps')})",
            expected="`optimizer.step()` before each `scheduler.step()`",
            where=c.where(e.get("site")),
            optimizer_steps=e.get("opt_steps"),
        )
    e = events[0]
    return refuted(
        observed=f"each of {len(events)} `scheduler.step()` call(s) came after an optimizer step",
        where=c.where(e.get("site")),
    )


def _placement(c: Ctx, event: Dict[str, Any]) -> str:
    """Where an event sits relative to backward and optimizer steps: between, before-backward, after-step."""
    seq = event.get("seq", 0)
    order = [e for e in c.ev.events if e.get("ev") in ("backward", "opt_step")]
    prev = next((e for e in reversed(order) if e["seq"] < seq), None)
    nxt = next((e for e in order if e["seq"] > seq), None)
    if prev is not None and prev["ev"] == "backward" and (nxt is None or nxt["ev"] == "opt_step"):
        return "between"
    if prev is not None and prev["ev"] == "opt_step":
        return "after-step"
    return "before-backward"


@verdict("TL106")
def clip_grad_misplaced(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    clips = c.prefer(d, c.ev.events_of("clip"), lambda e: e.get("site"))
    if not clips:
        return None
    tol = float(c.opts("TL106").get("tolerance", 1e-3))
    for e in clips:
        place = _placement(c, e)
        s = c.step_after(e)
        if place != "between":
            text = "before `backward()`" if place == "before-backward" else "after `optimizer.step()`"
            extra = ""
            if (
                s is not None
                and e.get("fn") == "clip_grad_norm_"
                and finite(s.get("grad_total"))
                and finite(e.get("limit"))
            ):
                extra = f"; the next step saw gradient norm {fmt(s['grad_total'])} (max_norm {fmt(e['limit'])})"
            return confirmed(
                observed=f"`{e.get('fn')}` ran {text}{extra}",
                expected="clipping between backward and step",
                where=c.where(e.get("site")),
                grad_norm_at_step=s.get("grad_total") if s else None,
                limit=e.get("limit"),
            )
        if (
            s is not None
            and e.get("fn") == "clip_grad_norm_"
            and finite(s.get("grad_total"))
            and finite(e.get("limit"))
        ):
            if s["grad_total"] > e["limit"] * (1 + tol):
                return confirmed(
                    observed=f"step {s['opt_step']} saw gradient norm {fmt(s['grad_total'])} above "
                    f"max_norm {fmt(e['limit'])}",
                    expected=f"norm <= {fmt(e['limit'])}",
                    where=c.where(e.get("site")),
                    step=s["opt_step"],
                )
    e = clips[0]
    s = c.step_after(e)
    norm = f" and step {s['opt_step']} saw gradient norm {fmt(s.get('grad_total'))}" if s else ""
    return refuted(
        observed=f"`{e.get('fn')}` ran between `backward()` and `step()`{norm}", where=c.where(e.get("site"))
    )


def _scaler_kind(c: Ctx, d: Diagnostic) -> str:
    for e in c.ev.events:
        if c.at(d, e.get("site")):
            if e.get("ev") == "clip":
                return "clip"
            if e.get("ev") == "backward":
                return "unscaled"
            if e.get("ev") in ("scaler", "opt_step"):
                return "update"
    msg = d.message
    if "unscale_" in msg and "clip" in msg:
        return "clip"
    if "update()" in msg:
        return "update"
    return "unscaled"


@verdict("TL107")
def grad_scaler_misuse(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    every = c.ev.events_of("scaler")
    scaler = [e for e in every if e.get("enabled", True)]
    if every and not scaler:
        return unverified(
            "the GradScaler is disabled in this run (enabled=False, e.g. no GPU), so its recipe has no effect here"
        )
    if not scaler:
        return None
    kind = _scaler_kind(c, d)
    steps = [e for e in scaler if e.get("method") == "step"]
    updates = [e for e in scaler if e.get("method") == "update"]
    if kind == "update":
        if updates:
            return refuted(
                observed=f"`scaler.update()` ran {len(updates)} time(s) (scale {fmt(updates[-1].get('scale'))})"
            )
        if len(steps) >= 2:
            return confirmed(
                observed=f"`scaler.step()` ran {len(steps)} times and `scaler.update()` never did, so the "
                "loss scale cannot adapt",
                expected="`scaler.update()` after each `scaler.step()`",
                where=c.where(steps[0].get("site")),
            )
        return None
    if kind == "clip":
        clips = c.prefer(d, c.ev.events_of("clip"), lambda e: e.get("site"))
        if not clips:
            return None
        for clip in clips:
            back = [e for e in c.ev.events if e.get("ev") == "backward" and e["seq"] < clip["seq"]]
            since = back[-1]["seq"] if back else 0
            unscaled = any(e.get("method") == "unscale_" and since < e["seq"] < clip["seq"] for e in scaler)
            if not unscaled:
                s = c.step_after(clip)
                norms = s.get("clip_norms") if s else None
                return confirmed(
                    observed="gradients were clipped while still multiplied by the loss scale "
                    f"(no `scaler.unscale_()` since the backward; norm seen by the clip: "
                    f"{fmt(norms[0]) if norms else '?'})",
                    expected="`scaler.unscale_(optimizer)` before clipping",
                    where=c.where(clip.get("site")),
                )
        return refuted(observed=f"`scaler.unscale_()` ran before each of {len(clips)} clip call(s)")
    backwards = c.ev.events_of("backward")
    if not backwards or not steps:
        return None
    plain = [e for e in backwards if not e.get("scaled")]
    if plain:
        return confirmed(
            observed=f"{len(plain)} of {len(backwards)} backward pass(es) ran on a loss that did not come "
            "from `scaler.scale()` while `scaler.step()` unscaled the gradients",
            expected="`scaler.scale(loss).backward()`",
            where=c.where(plain[0].get("site")),
        )
    return refuted(observed=f"all {len(backwards)} backward pass(es) ran on `scaler.scale(loss)`")


@verdict("TL108")
def backward_under_no_grad(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    backwards = c.prefer(d, c.ev.events_of("backward"), lambda e: e.get("site"))
    dead = [e for e in backwards if not e.get("grad_fn") and not e.get("requires_grad")]
    if dead:
        e = dead[0]
        mode = "with gradients disabled" if not e.get("grad_enabled") else "from a forward pass run under no_grad"
        return confirmed(
            observed=f"the tensor passed to `backward()` had no grad_fn and did not require grad (computed {mode})",
            expected="a loss with a grad_fn",
            where=c.where(e.get("site")),
        )
    no_grad_forward = [
        p
        for p in c.ev.passes.values()
        if any(k.startswith("eval_no_grad") for k in p.get("passes", {}))
        and not any(k.startswith("train") for k in p.get("passes", {}))
    ]
    if no_grad_forward and backwards:
        return confirmed(
            observed=f"model `{no_grad_forward[0]['model']}` only ever ran with gradients disabled, yet "
            "backward was called",
            expected="the training forward with gradients enabled",
        )
    if backwards:
        return refuted(
            observed=f"all {len(backwards)} loss(es) passed to `backward()` had a grad_fn",
            where=c.where(backwards[0].get("site")),
        )
    return None


# ---------------------------------------------------------------------- TL2xx: loss inputs
def _loss_where(c: Ctx, r: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"where": c.where(r.get("site")), "step": r.get("step"), "loss_function": r.get("fn")}
    if r.get("produced_by"):
        out["produced_by"] = r["produced_by"].get("module")
    return out


def _probabilities(c: Ctx, r: Dict[str, Any]) -> Optional[str]:
    rows, inp = r.get("rows") or {}, r.get("input") or {}
    tol = float(c.opts("TL201").get("row_sum_tolerance", 1e-3))
    lse_tol = float(c.opts("TL204").get("logsumexp_tolerance", 0.1))
    if not rows or not finite(inp.get("min")):
        return None
    if inp["min"] >= -tol and num(rows.get("row_sum_min")) >= 1 - tol and num(rows.get("row_sum_max")) <= 1 + tol:
        return "probabilities"
    if (
        num(inp.get("max")) <= tol
        and abs(num(rows.get("lse_min"))) <= lse_tol
        and abs(num(rows.get("lse_max"))) <= lse_tol
    ):
        return "log-probabilities"
    return None


@verdict("TL201")
def softmax_before_cross_entropy(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("cross_entropy",)) if r.get("rows")]
    if not recs:
        return None
    for r in recs:
        kind = _probabilities(c, r)
        if kind is not None:
            rows = r["rows"]
            return confirmed(
                observed=f"the rows of the cross-entropy input are {kind}: values in "
                f"[{fmt(r['input'].get('min'))}, {fmt(r['input'].get('max'))}], row sums in "
                f"[{fmt(rows['row_sum_min'])}, {fmt(rows['row_sum_max'])}], logsumexp in "
                f"[{fmt(rows['lse_min'])}, {fmt(rows['lse_max'])}]",
                expected="raw logits (any real values)",
                num_classes=r.get("num_classes"),
                **_loss_where(c, r),
            )
    r = recs[0]
    rows = r["rows"]
    return refuted(
        observed=f"the cross-entropy input looks like raw logits: values in [{fmt(r['input'].get('min'))}, "
        f"{fmt(r['input'].get('max'))}], row sums in [{fmt(rows['row_sum_min'])}, {fmt(rows['row_sum_max'])}]",
        **_loss_where(c, r),
    )


@verdict("TL202")
def sigmoid_before_bce_with_logits(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("binary_cross_entropy_with_logits",)) if finite(r["input"].get("min"))]
    if not recs:
        return None
    inside = [r for r in recs if r["input"]["min"] >= 0 and num(r["input"].get("max")) <= 1]
    if len(inside) == len(recs):
        r = recs[0]
        return confirmed(
            observed=f"every input of the BCE-with-logits loss lies in [0, 1] "
            f"(min {fmt(r['input']['min'])}, max {fmt(r['input']['max'])}): sigmoid outputs",
            expected="raw logits",
            **_loss_where(c, r),
        )
    r = next(r for r in recs if r not in inside)
    return refuted(
        observed=f"the BCE-with-logits input leaves [0, 1] (min {fmt(r['input']['min'])}, max "
        f"{fmt(r['input'].get('max'))}): raw logits",
        **_loss_where(c, r),
    )


@verdict("TL203")
def bce_on_logits(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("binary_cross_entropy",)) if finite(r["input"].get("min"))]
    if not recs:
        return None
    outside = [r for r in recs if r["input"]["min"] < 0 or num(r["input"].get("max")) > 1]
    if outside:
        r = outside[0]
        return confirmed(
            observed=f"the BCELoss input leaves [0, 1] (min {fmt(r['input']['min'])}, max "
            f"{fmt(r['input'].get('max'))}): logits, not probabilities",
            expected="probabilities in [0, 1]",
            **_loss_where(c, r),
        )
    r = recs[0]
    return refuted(
        observed=f"every BCELoss input lies in [0, 1] (min {fmt(r['input']['min'])}, max {fmt(r['input'].get('max'))})",
        **_loss_where(c, r),
    )


@verdict("TL204")
def nll_without_log_softmax(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("nll_loss",)) if r.get("rows")]
    if not recs:
        return None
    tol = float(c.opts("TL204").get("logsumexp_tolerance", 0.1))
    for r in recs:
        rows = r["rows"]
        worst = max(abs(num(rows.get("lse_min"), 0.0)), abs(num(rows.get("lse_max"), 0.0)))
        if worst > tol or not finite(rows.get("lse_max")):
            kind = "softmax probabilities" if _probabilities(c, r) == "probabilities" else "not log-probabilities"
            return confirmed(
                observed=f"logsumexp of the NLL input rows is in [{fmt(rows['lse_min'])}, "
                f"{fmt(rows['lse_max'])}]: {kind}",
                expected="logsumexp of each row = 0 (log_softmax output)",
                **_loss_where(c, r),
            )
    r = recs[0]
    return refuted(
        observed=f"the NLL input rows are log-probabilities (logsumexp in [{fmt(r['rows']['lse_min'])}, "
        f"{fmt(r['rows']['lse_max'])}])",
        **_loss_where(c, r),
    )


@verdict("TL205")
def regression_loss_for_classification(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")) if r.get("target")]
    if not recs:
        return None
    limit = int(c.opts("TL205").get("max_distinct", 20))
    for r in recs:
        t = r["target"]
        if t.get("integer") and t.get("distinct") is not None and t["distinct"] <= limit:
            return confirmed(
                observed=f"the regression loss's targets are whole numbers with {t['distinct']} distinct "
                f"value(s) in [{fmt(t.get('min'))}, {fmt(t.get('max'))}]: class labels",
                expected="continuous targets",
                **_loss_where(c, r),
            )
    r = recs[0]
    t = r["target"]
    what = "take fractional values" if not t.get("integer") else f"take {t.get('distinct')} distinct values"
    return refuted(
        observed=f"the regression loss's targets {what} (range [{fmt(t.get('min'))}, {fmt(t.get('max'))}])",
        **_loss_where(c, r),
    )


@verdict("TL206")
def activation_on_logits(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("cross_entropy",)) if finite(r["input"].get("min"))]
    if not recs:
        return None
    for r in recs:
        inp = r["input"]
        producer = (r.get("produced_by") or {}).get("type")
        if inp["min"] >= 0:
            return confirmed(
                observed=f"every logit fed to cross-entropy is >= 0 (min {fmt(inp['min'])}, max "
                f"{fmt(inp.get('max'))}){f', output of {producer}' if producer else ''}",
                expected="unbounded logits from a final Linear layer",
                **_loss_where(c, r),
            )
        if producer in SQUASHERS:
            return confirmed(
                observed=f"the logits come straight out of a `{producer}` layer (range "
                f"[{fmt(inp['min'])}, {fmt(inp.get('max'))}])",
                expected="unbounded logits from a final Linear layer",
                **_loss_where(c, r),
            )
    r = recs[0]
    return refuted(
        observed=f"the logits are unbounded both ways (range [{fmt(r['input']['min'])}, {fmt(r['input'].get('max'))}])",
        **_loss_where(c, r),
    )


# ---------------------------------------------------------------------- TL3xx: data
def _float_inputs(c: Ctx, d: Diagnostic) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
    out = []
    for rec in c.prefer(d, c.ev.inputs, lambda r: r.get("site")):
        for t in rec.get("tensors", []):
            if str(t.get("dtype", "")).startswith(("float", "bfloat")) and "mean" in t:
                out.append((rec, t))
    return out


def input_scale_problem(c: Ctx, t: Dict[str, Any]) -> Optional[str]:
    o = c.opts("TL906")
    amax = max(abs(num(t.get("min"), 0.0)), abs(num(t.get("max"), 0.0)))
    if amax > float(o.get("max_abs_value", 10.0)):
        return f"values reach {fmt(amax)} (above {fmt(o.get('max_abs_value', 10.0))})"
    if abs(num(t.get("mean"), 0.0)) > float(o.get("max_abs_mean", 3.0)):
        return f"mean {fmt(t.get('mean'))} (|mean| above {fmt(o.get('max_abs_mean', 3.0))})"
    if num(t.get("std"), 0.0) > float(o.get("max_std", 5.0)):
        return f"std {fmt(t.get('std'))} (above {fmt(o.get('max_std', 5.0))})"
    return None


@verdict("TL301")
def missing_input_normalization(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    found = _float_inputs(c, d)
    if not found:
        return None
    for rec, _ in found:
        norm = input_normaliser(c, rec.get("model"))
        if norm is not None:
            return refuted(
                observed=f"the first batch fed to `{rec.get('model')}` goes straight into `{norm[0]}` "
                f"({norm[1]}), which normalises it",
                where=c.where(rec.get("site")),
            )
    for rec, t in found:
        problem = input_scale_problem(c, t)
        if problem:
            return confirmed(
                observed=f"the first batch fed to `{rec.get('model')}`: {problem}; mean {fmt(t.get('mean'))}, "
                f"std {fmt(t.get('std'))}, range [{fmt(t.get('min'))}, {fmt(t.get('max'))}]",
                expected="roughly zero mean and unit scale",
                where=c.where(rec.get("site")),
                shape=t.get("shape"),
            )
    rec, t = found[0]
    return refuted(
        observed=f"the first batch fed to `{rec.get('model')}` is already on a small scale: mean "
        f"{fmt(t.get('mean'))}, std {fmt(t.get('std'))}, range [{fmt(t.get('min'))}, {fmt(t.get('max'))}]",
        where=c.where(rec.get("site")),
    )


@verdict("TL302")
def unshuffled_training_data(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [
        r
        for r in c.ev.losses
        if r.get("call") == 1
        and (r.get("target") or {}).get("sorted") is not None
        and ((r.get("target") or {}).get("shape") or [0])[0] >= 4
    ]
    # The loader the suspicion names: built at its line, or iterated there.
    loaders = [e for e in c.ev.events_of("loader") if c.at(d, e.get("site")) or c.at(d, e.get("iter_site"))]
    if loaders and all(e.get("order") == "random" for e in loaders):
        e = loaders[0]
        return refuted(
            observed=f"the DataLoader built here draws its samples in random order (`{e.get('sampler')}`)",
            where=c.where(e.get("site")),
        )
    if not recs:
        return None
    r = recs[0]
    t = r["target"]
    if t.get("distinct") == 1 or t.get("sorted"):
        what = (
            "all the same class" if t.get("distinct") == 1 else f"sorted ({t.get('distinct')} distinct values in order)"
        )
        return confirmed(
            observed=f"the labels of the first batch are {what}",
            expected="a mix of labels in random order",
            where=c.where(r.get("site")),
            batch=t.get("shape"),
        )
    # Mixed labels do not show that the loader shuffles: data stored interleaved (0, 1, 2, 3,
    # 0, 1, ...) still comes in the same fixed order every epoch.
    fixed = [e for e in loaders if e.get("order") == "sequential"]
    order = f"; the DataLoader built here iterates in a fixed order (`{fixed[0].get('sampler')}`)" if fixed else ""
    return unverified(
        f"the labels of the first batch are mixed ({t.get('distinct')} distinct values, not in order), "
        f"so the run shows no harm from the data order in it{order}"
    )


@verdict("TL303")
def nan_prone_input(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = c.prefer(d, c.ev.inputs, lambda r: r.get("site"))
    tensors = [(r, t) for r in recs for t in r.get("tensors", []) if "finite" in t]
    if not tensors:
        return None
    bad = [(r, t) for r, t in tensors if not t["finite"]]
    if bad:
        r, t = bad[0]
        return confirmed(
            observed=f"the first batch fed to `{r.get('model')}` contains NaN or Inf (input {t.get('name')})",
            expected="finite inputs",
            where=c.where(r.get("site")),
        )
    r = recs[0]
    return refuted(observed=f"the first batch fed to `{r.get('model')}` is finite", where=c.where(r.get("site")))


# ---------------------------------------------------------------------- TL4xx: model
def weighted_layers(c: Ctx, step: Dict[str, Any]) -> List[Tuple[int, str, Dict[str, Any], Dict[str, Any]]]:
    """(forward order, name, registry entry, step entry) of each Linear/Conv weight, input side first."""
    opt = c.ev.optimizers.get(step.get("optimizer", 0)) or {}
    reg = opt.get("params") or []
    out = []
    for entry in step.get("params", []):
        i = entry.get("i", -1)
        if 0 <= i < len(reg) and reg[i].get("weighted") and reg[i].get("order") is not None:
            out.append((reg[i]["order"], reg[i]["name"], reg[i], entry))
    return sorted(out, key=lambda x: x[0])


@verdict("TL401")
def bad_weight_init(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    first = [s for s in c.ev.steps if s.get("opt_step") == 1]
    if not first:
        return None
    layers = [x for s in first for x in weighted_layers(c, s)]
    init = [x for x in layers if "init_std" in x[3]]
    if not init:
        return None
    for _, name, reg, entry in init:
        if entry.get("init_range") == 0.0:
            same = " and its gradient rows were identical" if entry.get("rows_same") == 1.0 else ""
            return confirmed(
                observed=f"`{name}` started with every entry equal{same}, so its units cannot differ",
                expected="random init (kaiming/xavier or the layer default)",
                parameter=name,
                where=c.where(reg.get("site")),
            )
        if num(entry.get("init_std"), 0.0) >= 1.0:
            return confirmed(
                observed=f"`{name}` started with std {fmt(entry['init_std'])}",
                expected="std about 1/sqrt(fan_in)",
                parameter=name,
                where=c.where(reg.get("site")),
            )
    stds = sorted(((r["order"], r) for r in c.ev.act_std if finite(r.get("std"))), key=lambda x: x[0])
    if len(stds) >= 2:
        a, b = stds[0][1], stds[-1][1]
        if a["std"] > 0 and not (1e-2 <= b["std"] / a["std"] <= 1e2):
            return confirmed(
                observed=f"activation std went from {fmt(a['std'])} (`{a['module']}`) to {fmt(b['std'])} "
                f"(`{b['module']}`) through the network",
                expected="a roughly constant scale with depth",
            )
    extent = ""
    if len(stds) >= 2:
        extent = f"; activation std {fmt(stds[0][1]['std'])} -> {fmt(stds[-1][1]['std'])} from first to last layer"
    return refuted(observed=f"all {len(init)} weight matrices started non-constant with std below 1{extent}")


def grad_ratio(c: Ctx) -> Optional[Tuple[Dict[str, Any], Tuple[Any, ...], Tuple[Any, ...], float]]:
    """(step, first layer, last layer, last/first gradient-norm ratio) at the first step with 2+ layers.

    None when the first weighted layer in forward order is seen not to take the model's input
    (an embedding or recurrent layer comes first, or it scores a side branch): the ratio would
    then not measure how the gradient fades with depth.
    """
    seen = flows(c)
    for s in c.ev.steps:
        layers = [x for x in weighted_layers(c, s) if finite(x[3].get("grad"))]
        if len(layers) >= 2:
            first, last = layers[0], layers[-1]
            module = str(first[2].get("module", ""))
            takers = (seen.get(module.split(".")[0]) or {}).get("input") or []
            if takers and module not in {e[0] for e in takers}:
                return None
            g0, g1 = first[3]["grad"], last[3]["grad"]
            ratio = float("inf") if g0 == 0 and g1 > 0 else (g1 / g0 if g0 else 1.0)
            return s, first, last, ratio
    return None


@verdict("TL402")
def saturating_activation_stack(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    found = grad_ratio(c)
    limit = float(c.opts("TL902").get("ratio", 100.0))
    if found is not None and found[3] > limit:
        s, first, last, ratio = found
        return confirmed(
            observed=f"gradient norm of the first layer `{first[1]}` is {fmt(first[3]['grad'])}, of the last "
            f"layer `{last[1]}` {fmt(last[3]['grad'])} (ratio {fmt(ratio)}) at step {s['opt_step']}",
            expected=f"ratio below {fmt(limit)}",
            step=s["opt_step"],
        )
    # The stack's other failure: units pinned at their bounds, where the derivative is ~0. With
    # large weights the gradient need not shrink towards the input, but the units cannot learn.
    o = c.opts("TL905")
    sat_limit = float(o.get("max_saturated_fraction", 0.5))
    acts = [
        a
        for a in (c.ev.activations or {}).get("layers", [])
        if a.get("kind") in ("sigmoid", "tanh") and finite(a.get("saturated_fraction"))
    ]
    acts = c.prefer(d, acts, lambda a: a.get("site"))
    saturated = [a for a in acts if a["saturated_fraction"] > sat_limit]
    if saturated:
        worst = max(saturated, key=lambda a: a["saturated_fraction"])
        return confirmed(
            observed=f"{len(saturated)} of the {len(acts)} {worst['kind']} layer(s) had most outputs within "
            f"{fmt(o.get('epsilon', 0.01))} of their bounds (up to {fmt(100 * worst['saturated_fraction'])}% "
            f"in `{worst['name']}`), where their derivative is nearly zero",
            expected=f"at most {fmt(100 * sat_limit)}% saturated outputs per layer",
            where=c.where(worst.get("site")),
            saturated_fraction=worst["saturated_fraction"],
        )
    if found is None:
        return None
    s, first, last, ratio = found
    text = (
        f"gradient norm of the first layer `{first[1]}` is {fmt(first[3]['grad'])}, of the last layer `{last[1]}` "
        f"{fmt(last[3]['grad'])} (ratio {fmt(ratio)}) at step {s['opt_step']}"
    )
    if ratio < 1 / limit:
        return unverified(
            f"{text}: the gradient grows towards the input instead of vanishing, which this check "
            "does not judge (see TL903)"
        )
    if acts:
        text += f"; at most {fmt(100 * max(a['saturated_fraction'] for a in acts))}% of any activation layer's outputs saturated"
    return refuted(observed=text, step=s["opt_step"])


def _passes(c: Ctx) -> List[Dict[str, Any]]:
    return list(c.ev.passes.values())


def _no_eval_pass(c: Ctx) -> Optional[Verdict]:
    """Unverified, saying so, when no evaluation pass ran at all (None when one did)."""
    if c.ev.eval_passes:
        return None
    wait = c.ev.wait_note()
    if wait:
        return unverified(f"{wait}; trace with a larger --eval-wait or --steps to reach the evaluation")
    if c.ev.reached_training:
        return unverified(
            "no evaluation pass (a forward pass that no backward used, or one with gradients off) "
            "ran in the traced steps; trace with a larger --steps to reach the evaluation"
        )
    return None


@verdict("TL403")
def missing_eval_mode(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    evals = 0
    for p in _passes(c):
        counts, first = p.get("passes", {}), p.get("first", {})
        if not p.get("has_drop_or_norm"):
            continue
        for key, n in counts.items():
            kind, mode = key.split(":")
            if kind.startswith("eval"):
                evals += n
                if mode == "train":
                    return confirmed(
                        observed=f"`{p['model']}` (with dropout/batch-norm) ran {n} evaluation pass(es) "
                        "in training mode",
                        expected="`model.eval()` before evaluation",
                        where=c.where(first.get(key)),
                    )
            elif kind == "train" and mode == "eval":
                return confirmed(
                    observed=f"`{p['model']}` ran {n} training pass(es) in eval mode (train() never restored)",
                    expected="`model.train()` before training",
                    where=c.where(first.get(key)),
                )
    if evals:
        return refuted(observed=f"{evals} evaluation pass(es) ran in eval mode and training passes in training mode")
    return _no_eval_pass(c)


@verdict("TL404")
def eval_without_no_grad(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    no_grad = 0
    for p in _passes(c):
        for key, n in p.get("passes", {}).items():
            if key.startswith("eval_grad"):
                return confirmed(
                    observed=f"`{p['model']}` ran {n} pass(es) with no backward whose outputs carried a "
                    "grad_fn (an autograd graph built and thrown away)",
                    expected="evaluation under `torch.no_grad()`",
                    where=c.where(p.get("first", {}).get(key)),
                )
            if key.startswith("eval_no_grad"):
                no_grad += n
    if no_grad:
        return refuted(observed=f"{no_grad} evaluation pass(es) ran with gradients disabled")
    return _no_eval_pass(c)


@verdict("TL405")
def functional_dropout_always_on(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    events = c.ev.events_of("functional_dropout")
    on = [e for e in events if e.get("state") == "active_in_eval"]
    if on:
        e = on[0]
        return confirmed(
            observed=f"`F.{e.get('fn')}` was active inside `{e.get('module')}` while the model was in eval mode",
            expected="dropout off in eval mode",
            where=c.where(e.get("site")),
        )
    if events:
        return refuted(
            observed=f"`F.{events[0].get('fn')}` was off while the model was in eval mode",
            where=c.where(events[0].get("site")),
        )
    return _no_eval_pass(c)


# ---------------------------------------------------------------------- TL5xx
def update_ratios(c: Ctx, optimizer: Optional[int] = None) -> Dict[Tuple[int, str], Tuple[float, Dict[str, Any]]]:
    """Median ||dw||/||w|| over the traced steps for each weight matrix."""
    per: Dict[Tuple[int, str], List[float]] = {}
    regs: Dict[Tuple[int, str], Dict[str, Any]] = {}
    # A weight whose output goes straight into a normalisation layer is scale-invariant: its
    # effective step is lr/||w||^2, which adapts on its own, so ||dw||/||w|| says little.
    normed = {name for f in flows(c).values() for name in (f.get("normed") or {})}
    for s in c.ev.steps:
        if optimizer is not None and s.get("optimizer") != optimizer:
            continue
        if (c.ev.optimizers.get(s.get("optimizer", 0)) or {}).get("name") in SECOND_ORDER:
            continue  # quasi-Newton steps jump towards the minimum by design
        for _, name, reg, entry in weighted_layers(c, s):
            if reg.get("module") in normed:
                continue
            d, w = entry.get("delta"), entry.get("w")
            if finite(d) and finite(w) and w > 0 and d > 0:
                per.setdefault((s["optimizer"], name), []).append(d / w)
                regs[(s["optimizer"], name)] = reg
    return {k: (statistics.median(v), regs[k]) for k, v in per.items()}


@verdict("TL501")
def learning_rate_out_of_range(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    opts = [o for o in c.ev.optimizers.values() if c.at(d, o.get("site"))]
    ratios = update_ratios(c, opts[0]["optimizer"] if opts else None)
    if not ratios:
        return None
    o = c.opts("TL909")
    lo, hi = float(o.get("min_ratio", 1e-5)), float(o.get("max_ratio", 0.1))
    worst = max(ratios.items(), key=lambda kv: max(kv[1][0] / hi, lo / kv[1][0]))
    (opt, name), (ratio, _) = worst
    lrs = (c.ev.optimizers.get(opt) or {}).get("lr")
    text = f"update/weight ratio of `{name}` was {fmt(ratio)} per step (lr {', '.join(fmt(x) for x in lrs or [])})"
    if ratio > hi or ratio < lo:
        return confirmed(
            observed=text, expected=f"about 1e-3, within [{fmt(lo)}, {fmt(hi)}]", parameter=name, ratio=ratio
        )
    return refuted(
        observed=f"{text}; all {len(ratios)} weight matrices stayed within [{fmt(lo)}, {fmt(hi)}]",
        parameter=name,
        ratio=ratio,
    )


# ---------------------------------------------------------------------- TL6xx
@verdict("TL601")
def detached_loss(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    backwards = c.prefer(d, c.ev.events_of("backward"), lambda e: e.get("site"))
    if not backwards:
        return None
    cut = [e for e in backwards if not e.get("grad_fn")]
    if cut:
        e = cut[0]
        leaf = " (a fresh leaf tensor)" if e.get("is_leaf") and e.get("requires_grad") else ""
        return confirmed(
            observed=f"the tensor passed to `backward()` had no grad_fn{leaf}, so no gradient can reach "
            "the model's parameters",
            expected="a loss computed from the model's output",
            where=c.where(e.get("site")),
        )
    reached = [s for s in c.ev.steps if any(p.get("received") for p in s.get("params", []))]
    if c.ev.steps and not reached:
        return confirmed(
            observed="backward ran on a tensor with a graph, but no parameter of the optimizer received a gradient",
            expected="gradients for the trained parameters",
        )
    s = reached[0] if reached else None
    extra = f"; {sum(1 for p in s['params'] if p.get('received'))} parameter(s) received gradients" if s else ""
    return refuted(
        observed=f"the loss passed to `backward()` had a grad_fn{extra}", where=c.where(backwards[0].get("site"))
    )


@verdict("TL602")
def manual_update_wrong(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    pairs = [m for m in c.ev.manual if "delta_dot_grad" in m]
    if not pairs:
        return None
    for m in pairs:
        if m.get("same_leaves") is False:
            return confirmed(
                observed="the tensors trained by the next backward were different objects: the update "
                "rebound the names instead of updating the leaves in place",
                expected="in-place update under `torch.no_grad()`",
                backward=m.get("backward"),
            )
        if num(m.get("delta_dot_grad"), 0.0) > 0:
            return confirmed(
                observed=f"the update moved the parameters along the gradient (update . gradient = "
                f"{fmt(m['delta_dot_grad'])} > 0): gradient ascent",
                expected="update . gradient < 0",
                backward=m.get("backward"),
            )
    m = pairs[0]
    if num(m.get("delta_dot_grad"), 0.0) < 0:
        return refuted(
            observed=f"the update moved against the gradient (update . gradient = {fmt(m['delta_dot_grad'])})",
            backward=m.get("backward"),
        )
    return None


@verdict("TL603")
def manual_update_no_grad_reset(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    later = [m for m in c.ev.manual if m.get("backward", 0) >= 2 and "stale_grad_norm" in m]
    if not later:
        return None
    stale = [m for m in later if num(m.get("stale_grad_norm"), 0.0) > 0 or isinstance(m.get("stale_grad_norm"), str)]
    if stale:
        m = stale[0]
        return confirmed(
            observed=f"before backward #{m['backward']}, the trained tensors still held the previous "
            f"gradient (largest norm {fmt(m.get('stale_grad_norm'))}), so the gradients accumulate",
            expected="`.grad` cleared after each update",
            backward=m["backward"],
        )
    return refuted(observed=f"before backward #{later[0]['backward']} every trained tensor's gradient was cleared")


def crash_verdict(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    """The script failed at the suspected line with an autograd/loss error: that is the confirmation."""
    out = c.ev.outcome or {}
    frames = out.get("frames") or []
    if d.code not in CONFIRMED_BY_CRASH or out.get("status") not in ("error",) or not frames:
        return None
    frame = frames[-1]
    if not c.at(d, frame):
        return None
    return confirmed(
        observed=f"the script failed here: {out.get('type')}: {str(out.get('message', '')).splitlines()[0][:200]}",
        where=c.where(frame),
    )


def judge(c: Ctx, d: Diagnostic) -> Tuple[Optional[Verdict], Optional[str]]:
    """(verdict or None, reason when unverified)."""
    if d.code in NO_RUNTIME_CHECK:
        return None, f"no runtime check for this rule ({NO_RUNTIME_CHECK[d.code]})"
    fn = VERDICTS.get(d.code)
    if fn is None:
        return None, "no runtime check for this rule"
    v = fn(c, d)
    if v is not None and v.status == Status.UNVERIFIED:
        return None, str(v.evidence.get("reason", ""))
    if v is None or v.status.value == "refuted":
        crash = crash_verdict(c, d)
        if crash is not None:
            return crash, None
    if v is None:
        return None, "the traced run never produced the evidence this check needs"
    return v, None
