"""Readings of the evidence that several verdicts and runtime-only findings share."""

from __future__ import annotations

import statistics
from typing import Any, Dict, List, Optional, Tuple, cast

from trainlint import registry
from trainlint.diagnostics import Diagnostic, Severity, Span, Status
from trainlint.runtime.judging.context import Ctx, Verdict, fmt, num, unverified
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import (
    ActivationLayer,
    CodeSite,
    InputBatch,
    InputFlow,
    LossInputs,
    ParamInfo,
    ParamStep,
    StepRecord,
    TensorStats,
)

# Quasi-Newton optimizers: their steps jump towards the minimum by design.
SECOND_ORDER = {"LBFGS"}
# A weight matrix in a step: (forward order, name, its optimizer entry, its step entry).
WeightedLayer = Tuple[int, str, ParamInfo, ParamStep]


def flows(c: Ctx) -> Dict[str, InputFlow]:
    """Per model: which layers took its input in the first training pass, and which weighted
    layers fed a normalisation layer directly."""
    out: Dict[str, InputFlow] = {}
    for e in c.ev.events_of(InputFlow):
        out.setdefault(str(e.model), e)
    return out


def input_normaliser(c: Ctx, model: Optional[str]) -> Optional[Tuple[str, str]]:
    """(layer name, type) of the normalisation layer the model's raw input goes through before
    any other layer, when it does."""
    f = flows(c).get(str(model))
    entries = f.input if f is not None else []
    norms = [e for e in entries if e.is_norm]
    if norms and all(e.is_norm or e.via_norm for e in entries):
        return norms[0].layer, norms[0].layer_type
    return None


def weighted_layers(c: Ctx, step: StepRecord) -> List[WeightedLayer]:
    """Each Linear/Conv weight of a step, input side first."""
    opt = c.ev.optimizers.get(step.optimizer)
    reg = opt.params if opt is not None else []
    out = []
    for entry in step.params:
        i = entry.i
        order = reg[i].order if 0 <= i < len(reg) else None
        if order is not None and reg[i].weighted:
            out.append((order, reg[i].name, reg[i], entry))
    return sorted(out, key=lambda x: x[0])


def grad_ratio(c: Ctx) -> Optional[Tuple[StepRecord, WeightedLayer, WeightedLayer, float]]:
    """(step, first layer, last layer, last/first gradient-norm ratio) at the first step with 2+ layers.

    None when the first weighted layer in forward order is seen not to take the model's input
    (an embedding or recurrent layer comes first, or it scores a side branch): the ratio would
    then not measure how the gradient fades with depth.
    """
    seen = flows(c)
    for s in c.ev.steps:
        layers = [x for x in weighted_layers(c, s) if finite(x[3].grad)]
        if len(layers) >= 2:
            first, last = layers[0], _deepest_of_same_role(layers) or layers[-1]
            module = str(first[2].module)
            flow = seen.get(module.split(".")[0])
            takers = flow.input if flow is not None else []
            if takers and module not in {e.layer for e in takers}:
                return None
            g0, g1 = cast(float, first[3].grad), cast(float, last[3].grad)  # finite, as filtered
            ratio = float("inf") if g0 == 0 and g1 > 0 else (g1 / g0 if g0 else 1.0)
            return s, first, last, ratio
    return None


def _deepest_of_same_role(layers: List[WeightedLayer]) -> Optional[WeightedLayer]:
    """When the first layer sits in a stack of repeated blocks (`encoder.layer.0.attention.
    self.query.weight`), the same weight in the deepest block (`encoder.layer.11.attention.
    self.query.weight`). Gradients that fade with depth show there; a head past the stack
    differs from the stack's weights for other reasons (a transformer's attention projections
    get tiny gradients at initialisation in every block, and its normalised residual stream
    keeps them level over depth)."""
    parts = layers[0][1].split(".")
    for k in range(len(parts) - 1, -1, -1):
        if not parts[k].isdigit():
            continue
        deepest: Optional[Tuple[int, WeightedLayer]] = None
        for layer in layers[1:]:
            other = layer[1].split(".")
            if len(other) == len(parts) and other[:k] == parts[:k] and other[k + 1 :] == parts[k + 1 :]:
                if (
                    other[k].isdigit()
                    and int(other[k]) > int(parts[k])
                    and (deepest is None or int(other[k]) > deepest[0])
                ):
                    deepest = (int(other[k]), layer)
        if deepest is not None:
            return deepest[1]
    return None


def update_ratios(c: Ctx, optimizer: Optional[int] = None) -> Dict[Tuple[int, str], Tuple[float, ParamInfo]]:
    """Median ||dw||/||w|| over the traced steps for each weight matrix."""
    per: Dict[Tuple[int, str], List[float]] = {}
    regs: Dict[Tuple[int, str], ParamInfo] = {}
    # A weight whose output goes straight into a normalisation layer is scale-invariant: its
    # effective step is lr/||w||^2, which adapts on its own, so ||dw||/||w|| says little.
    normed = {name for f in flows(c).values() for name in f.normed}
    for s in c.ev.steps:
        if optimizer is not None and s.optimizer != optimizer:
            continue
        opt = c.ev.optimizers.get(s.optimizer)
        if opt is not None and opt.name in SECOND_ORDER:
            continue
        for _, name, reg, entry in weighted_layers(c, s):
            if reg.module in normed:
                continue
            d, w = entry.delta, entry.w
            if finite(d) and finite(w) and w > 0 and d > 0:
                per.setdefault((s.optimizer, name), []).append(d / w)
                regs[(s.optimizer, name)] = reg
    return {k: (statistics.median(v), regs[k]) for k, v in per.items()}


def input_scale_problem(c: Ctx, t: TensorStats) -> Optional[str]:
    """What is off about the scale of an input tensor (None: roughly normalised)."""
    o = c.opts("TL906")
    amax = max(abs(num(t.min, 0.0)), abs(num(t.max, 0.0)))
    if amax > float(o.get("max_abs_value", 10.0)):
        return f"values reach {fmt(amax)} (above {fmt(o.get('max_abs_value', 10.0))})"
    if abs(num(t.mean, 0.0)) > float(o.get("max_abs_mean", 3.0)):
        return f"mean {fmt(t.mean)} (|mean| above {fmt(o.get('max_abs_mean', 3.0))})"
    if num(t.std, 0.0) > float(o.get("max_std", 5.0)):
        return f"std {fmt(t.std)} (above {fmt(o.get('max_std', 5.0))})"
    return None


def loss_where(c: Ctx, r: LossInputs) -> Dict[str, Any]:
    """The evidence fields that place a loss record: line, step, function, producing layer."""
    out: Dict[str, Any] = {"where": c.where(r.site), "step": r.step, "loss_function": r.fn}
    if r.produced_by:
        out["produced_by"] = r.produced_by.module
    return out


def probabilities(c: Ctx, r: LossInputs) -> Optional[str]:
    """ "probabilities" or "log-probabilities" when a classification loss's input rows are such."""
    rows, inp = r.rows, r.input
    tol = float(c.opts("TL201").get("row_sum_tolerance", 1e-3))
    lse_tol = float(c.opts("TL204").get("logsumexp_tolerance", 0.1))
    if rows is None or not finite(inp.min):
        return None
    if inp.min >= -tol and num(rows.row_sum_min) >= 1 - tol and num(rows.row_sum_max) <= 1 + tol:
        return "probabilities"
    if num(inp.max) <= tol and abs(num(rows.lse_min)) <= lse_tol and abs(num(rows.lse_max)) <= lse_tol:
        return "log-probabilities"
    return None


def no_eval_pass(c: Ctx) -> Optional[Verdict]:
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


def runtime_finding(
    c: Ctx,
    code: str,
    message: str,
    site: Optional[CodeSite],
    evidence: Dict[str, Any],
    severity: Optional[Severity] = None,
) -> Diagnostic:
    """A confirmed runtime-only finding at the user's line `site` (the script's first line if none)."""
    info = registry.RULES[code]
    line = int(site.line or 1) if site is not None and site.path else 1
    ev = {k: v for k, v in evidence.items() if v is not None}
    if site is not None and site.path:
        ev.setdefault("where", c.where(site))
    return Diagnostic(
        code,
        info.name,
        severity or info.severity,
        message,
        c.path_of(site),
        Span(line, 1, line, 1),
        status=Status.CONFIRMED,
        evidence=ev,
    )


def act_layers(c: Ctx) -> List[ActivationLayer]:
    """The activation layers the run watched (TL904 dead units, TL905 saturation)."""
    return list(c.ev.activations.layers) if c.ev.activations is not None else []


def constant_input(rec: InputBatch) -> Optional[TensorStats]:
    """The model's first floating-point argument, when every one of its values is the same.
    Only the first: a mask or a flag given beside the data may well be constant."""
    for t in rec.tensors:
        if not str(t.dtype).startswith(("float", "bfloat")):
            continue
        size = 1
        for n in t.shape:
            size *= n
        if size > 1 and t.finite is not False and t.min is not None and num(t.min) == num(t.max):
            return t
        return None
    return None
