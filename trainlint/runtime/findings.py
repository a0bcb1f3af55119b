"""Runtime-only findings (TL901-TL913) and TL003, each located at the user's code."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional

from trainlint.diagnostics import Diagnostic, Severity, Span, Status
from trainlint.registry import RULES
from trainlint.runtime.context import Ctx, fmt, num
from trainlint.runtime.evidence import finite
from trainlint.runtime.runner import signal_name
from trainlint.runtime.verdicts import grad_ratio, input_normaliser, input_scale_problem, update_ratios, weighted_layers

FindingFn = Callable[[Ctx], List[Diagnostic]]
FINDINGS: Dict[str, FindingFn] = {}


def finding(code: str) -> Callable[[FindingFn], FindingFn]:
    def deco(fn: FindingFn) -> FindingFn:
        FINDINGS[code] = fn
        return fn

    return deco


def make(
    c: Ctx,
    code: str,
    message: str,
    site: Optional[Dict[str, Any]],
    evidence: Dict[str, Any],
    severity: Optional[Severity] = None,
) -> Diagnostic:
    info = RULES[code]
    line = int(site.get("line") or 1) if site and site.get("path") else 1
    ev = {k: v for k, v in evidence.items() if v is not None}
    if site and site.get("path"):
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


# ---------------------------------------------------------------------- TL901
@finding("TL901")
def non_finite(c: Ctx) -> List[Diagnostic]:
    for rec in c.ev.inputs:
        for t in rec.get("tensors", []):
            if t.get("finite") is False:
                return [
                    make(
                        c,
                        "TL901",
                        f"the first batch fed to `{rec.get('model')}` contains NaN or Inf (input "
                        f"{t.get('name')}); every output and gradient computed from it is NaN. Clean "
                        "or impute missing values before training.",
                        rec.get("site"),
                        {
                            "observed": f"NaN/Inf in the input batch (shape {t.get('shape')})",
                            "expected": "finite values",
                            "step": rec.get("step", 0) + 1,
                            "appeared_in": "input batch",
                        },
                    )
                ]
    nf = c.ev.nonfinite
    if nf is not None:
        where = nf.get("where")
        name = nf.get("name")
        subject = "the loss" if where == "loss" else f"{where} `{name}`"
        return [
            make(
                c,
                "TL901",
                f"the first NaN/Inf of the run appeared in {subject} at step {nf.get('step')}; from there "
                "it spreads to every parameter. Look for a division by zero, log of 0, an exploding "
                "learning rate or overflow in half precision at this point.",
                nf.get("site"),
                {
                    "observed": f"first non-finite value in {subject}",
                    "expected": "finite values",
                    "step": nf.get("step"),
                    "appeared_in": where,
                    "name": name,
                },
            )
        ]
    for rec in c.ev.losses:
        value = c.ev.loss_value(rec)
        if isinstance(value, str):
            return [
                make(
                    c,
                    "TL901",
                    f"the loss `{rec.get('fn')}` returned {value} at step {rec.get('step')}. Look for a "
                    "log of 0, an exploding learning rate or invalid targets.",
                    rec.get("site"),
                    {"observed": f"loss = {value}", "expected": "a finite loss", "step": rec.get("step")},
                )
            ]
    return []


# ---------------------------------------------------------------------- TL902 / TL903
@finding("TL902")
def vanishing_gradient(c: Ctx) -> List[Diagnostic]:
    found = grad_ratio(c)
    if found is None:
        return []
    s, first, last, ratio = found
    o = c.opts("TL902")
    limit, min_norm = float(o.get("ratio", 100.0)), float(o.get("min_norm", 1e-7))
    g0, g1 = first[3]["grad"], last[3]["grad"]
    if not (ratio > limit or (g0 < min_norm and g1 >= min_norm)):
        return []
    return [
        make(
            c,
            "TL902",
            f"the gradient reaching the first layer `{first[1]}` (norm {fmt(g0)}) is {fmt(ratio)}x smaller "
            f"than at the last layer `{last[1]}` (norm {fmt(g1)}), so early layers barely learn. Use "
            "ReLU-family activations, normalisation or residual connections, and a suitable init.",
            first[2].get("site"),
            {
                "observed": f"grad norm {fmt(g0)} at `{first[1]}` vs {fmt(g1)} at `{last[1]}` (ratio {fmt(ratio)})",
                "expected": f"ratio below {fmt(limit)} and norms above {fmt(min_norm)}",
                "step": s["opt_step"],
                "first_layer_grad_norm": g0,
                "last_layer_grad_norm": g1,
                "ratio": ratio,
            },
        )
    ]


@finding("TL903")
def exploding_gradient(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL903")
    max_total, limit = float(o.get("max_total_norm", 1000.0)), float(o.get("ratio", 100.0))
    for s in c.ev.steps:
        total = s.get("grad_total")
        if finite(total) and total > max_total:
            layers = [x for x in weighted_layers(c, s) if finite(x[3].get("grad"))]
            top = max(layers, key=lambda x: x[3]["grad"]) if layers else None
            opt = c.ev.optimizers.get(s.get("optimizer", 0)) or {}
            site = top[2].get("site") if top else opt.get("site")
            largest = f"; largest at `{top[1]}` ({fmt(top[3]['grad'])})" if top else ""
            return [
                make(
                    c,
                    "TL903",
                    f"the total gradient norm reached {fmt(total)} at step {s['opt_step']}{largest}; steps "
                    "this large throw the weights far from where the gradient was measured. Normalise "
                    "the inputs, lower the learning rate, or clip gradients.",
                    site,
                    {
                        "observed": f"total grad norm {fmt(total)}",
                        "expected": f"below {fmt(max_total)}",
                        "step": s["opt_step"],
                        "grad_total": total,
                    },
                )
            ]
    found = grad_ratio(c)
    if found is not None:
        s, first, last, ratio = found
        if ratio > 0 and 1 / ratio > limit:
            return [
                make(
                    c,
                    "TL903",
                    f"the gradient grows {fmt(1 / ratio)}x from the last layer `{last[1]}` to the first "
                    f"layer `{first[1]}` (norm {fmt(first[3]['grad'])}); early layers take huge steps. "
                    "Normalise the inputs, check the init, or clip gradients.",
                    first[2].get("site"),
                    {
                        "observed": f"grad norm {fmt(first[3]['grad'])} at `{first[1]}` vs {fmt(last[3]['grad'])} at `{last[1]}`",
                        "expected": f"growth below {fmt(limit)}x",
                        "step": s["opt_step"],
                        "ratio": 1 / ratio,
                    },
                )
            ]
    return []


# ---------------------------------------------------------------------- TL904 / TL905
def _act_layers(c: Ctx) -> List[Dict[str, Any]]:
    return list((c.ev.activations or {}).get("layers", []))


@finding("TL904")
def dead_relu(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL904")
    limit, min_samples = float(o.get("max_dead_fraction", 0.5)), int(o.get("min_samples", 16))
    out = []
    for layer in _act_layers(c):
        dead = layer.get("dead_fraction")
        if layer.get("kind") == "relu" and finite(dead) and dead > limit and layer.get("samples", 0) >= min_samples:
            out.append(
                make(
                    c,
                    "TL904",
                    f"{fmt(100 * dead)}% of the units of `{layer['name']}` output zero for every one of "
                    f"{layer['samples']} samples, so they pass no gradient and never recover. Check the "
                    "init and bias of the layer before it, lower the learning rate, or use LeakyReLU.",
                    layer.get("site"),
                    {
                        "observed": f"{fmt(100 * dead)}% dead units of {layer.get('units')}",
                        "expected": f"at most {fmt(100 * limit)}%",
                        "samples": layer["samples"],
                        "dead_fraction": dead,
                    },
                )
            )
    return out


@finding("TL905")
def saturated_activation(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL905")
    limit, eps = float(o.get("max_saturated_fraction", 0.5)), float(o.get("epsilon", 0.01))
    out = []
    for layer in _act_layers(c):
        frac = layer.get("saturated_fraction")
        if layer.get("kind") in ("sigmoid", "tanh") and finite(frac) and frac > limit:
            bounds = "0 or 1" if layer["kind"] == "sigmoid" else "-1 or 1"
            out.append(
                make(
                    c,
                    "TL905",
                    f"{fmt(100 * frac)}% of the outputs of `{layer['name']}` ({layer['kind']}) are within "
                    f"{fmt(eps)} of {bounds}, where its derivative is nearly zero. Normalise the inputs "
                    "of the layer, use a smaller init, or a non-saturating activation.",
                    layer.get("site"),
                    {
                        "observed": f"{fmt(100 * frac)}% saturated outputs",
                        "expected": f"at most {fmt(100 * limit)}%",
                        "saturated_fraction": frac,
                    },
                )
            )
    return out


# ---------------------------------------------------------------------- TL906
@finding("TL906")
def unnormalized_input(c: Ctx) -> List[Diagnostic]:
    for rec in c.ev.inputs:
        if input_normaliser(c, rec.get("model")) is not None:
            continue  # the model's first layer normalises the batch itself
        for t in rec.get("tensors", []):
            if not str(t.get("dtype", "")).startswith(("float", "bfloat")) or "mean" not in t:
                continue
            problem = input_scale_problem(c, t)
            if problem:
                return [
                    make(
                        c,
                        "TL906",
                        f"the first batch fed to `{rec.get('model')}` is far from zero mean and unit "
                        f"scale ({problem}); large inputs give large activations and gradients in the "
                        "first layer. Normalise with the dataset's mean and std.",
                        rec.get("site"),
                        {
                            "observed": f"mean {fmt(t.get('mean'))}, std {fmt(t.get('std'))}, range "
                            f"[{fmt(t.get('min'))}, {fmt(t.get('max'))}]",
                            "expected": "roughly zero mean and unit std",
                            "input": t.get("name"),
                            "shape": t.get("shape"),
                        },
                    )
                ]
    return []


# ---------------------------------------------------------------------- TL907 / TL908
@finding("TL907")
def parameter_without_gradient(c: Ctx) -> List[Diagnostic]:
    if not c.ev.steps or not c.ev.events_of("backward"):
        return []
    out = []
    for opt_index, opt in c.ev.optimizers.items():
        steps = [s for s in c.ev.steps if s.get("optimizer") == opt_index]
        if not steps:
            continue
        got = {p.get("i") for s in steps for p in s.get("params", []) if p.get("received") or p.get("grad") is not None}
        seen = {p.get("i") for s in steps for p in s.get("params", [])}
        missing = [opt["params"][i] for i in sorted(seen - got) if 0 <= i < len(opt.get("params", []))]
        if not missing:
            continue
        names = [p["name"] for p in missing]
        shown = ", ".join(f"`{n}`" for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        out.append(
            make(
                c,
                "TL907",
                f"{len(names)} trainable parameter(s) held by {opt.get('name')} never received a gradient "
                f"in {len(steps)} step(s): {shown}. The loss does not depend on them (an unused "
                "layer, a detach, or an output that is not used); freeze or remove them, or fix the "
                "graph.",
                missing[0].get("site"),
                {
                    "observed": f"`.grad` None after every backward for {len(names)} parameter(s)",
                    "expected": "a gradient for every trainable parameter",
                    "parameters": names[:20],
                },
            )
        )
    return out


@finding("TL908")
def parameter_not_updated(c: Ctx) -> List[Diagnostic]:
    if not c.ev.optimizers or not c.ev.steps:
        return []
    out = []
    held = {p.get("name") for o in c.ev.optimizers.values() for p in o.get("params", [])}
    for name, model in c.ev.models.items():
        passes = (c.ev.passes.get(name) or {}).get("passes", {})
        if not any(k.startswith("train") for k in passes):
            continue
        missing = [p for p in model.get("params", []) if p.get("requires_grad") and p.get("name") not in held]
        if missing:
            names = [p["name"] for p in missing]
            shown = ", ".join(f"`{n}`" for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
            out.append(
                make(
                    c,
                    "TL908",
                    f"{len(names)} trainable parameter(s) of `{name}` are held by no optimizer, so "
                    f"they never change: {shown}. Pass all of `model.parameters()` to the optimizer "
                    "(or set `requires_grad=False` on what should stay frozen).",
                    missing[0].get("site"),
                    {
                        "observed": f"{len(names)} parameter(s) with requires_grad=True in no optimizer",
                        "expected": "every trainable parameter held by an optimizer",
                        "parameters": names[:20],
                    },
                )
            )
    for opt_index, opt in c.ev.optimizers.items():
        steps = [s for s in c.ev.steps if s.get("optimizer") == opt_index]
        with_grad: Dict[int, bool] = {}
        moved: Dict[int, bool] = {}
        for s in steps:
            for p in s.get("params", []):
                # A gradient below float resolution relative to the weight cannot move it: that is
                # a vanishing gradient (TL902), not a parameter the optimizer skips.
                if finite(p.get("grad")) and p["grad"] > 1e-6 * max(num(p.get("w"), 0.0), 1e-12):
                    with_grad[p["i"]] = True
                if num(p.get("delta"), 0.0) > 0 or isinstance(p.get("delta"), str):
                    moved[p["i"]] = True
        still = [i for i in with_grad if not moved.get(i) and 0 <= i < len(opt.get("params", []))]
        if still:
            names = [opt["params"][i]["name"] for i in still]
            lrs = ", ".join(fmt(x) for x in opt.get("lr") or [])
            out.append(
                make(
                    c,
                    "TL908",
                    f"{len(names)} parameter(s) had non-zero gradients but did not change in "
                    f"{len(steps)} {opt.get('name')} step(s) (lr {lrs}): "
                    + ", ".join(f"`{n}`" for n in names[:6])
                    + ". Check the learning rate and the parameter groups.",
                    opt.get("site"),
                    {
                        "observed": f"||dw|| = 0 despite gradients for {len(names)} parameter(s)",
                        "expected": "every step changes the parameters it has gradients for",
                        "parameters": names[:20],
                    },
                )
            )
    return out


# ---------------------------------------------------------------------- TL909
@finding("TL909")
def update_ratio_out_of_range(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL909")
    lo, hi = float(o.get("min_ratio", 1e-5)), float(o.get("max_ratio", 0.1))
    out = []
    for opt_index, opt in c.ev.optimizers.items():
        ratios = update_ratios(c, opt_index)
        bad = {k: v for k, v in ratios.items() if v[0] > hi or v[0] < lo}
        if not bad:
            continue
        (_, name), (ratio, reg) = max(bad.items(), key=lambda kv: max(kv[1][0] / hi, lo / kv[1][0]))
        lrs = ", ".join(fmt(x) for x in opt.get("lr") or [])
        direction = (
            "too large: the learning rate is likely too high"
            if ratio > hi
            else "tiny: the learning rate is likely too low"
        )
        out.append(
            make(
                c,
                "TL909",
                f"each {opt.get('name')} step changes `{name}` by {fmt(ratio)} of its norm ({direction}; "
                f"lr {lrs}); {len(bad)} of {len(ratios)} weight matrices are outside [{fmt(lo)}, {fmt(hi)}]. "
                "Aim for an update/weight ratio around 1e-3.",
                opt.get("site"),
                {
                    "observed": f"||dw||/||w|| = {fmt(ratio)} for `{name}`",
                    "expected": f"within [{fmt(lo)}, {fmt(hi)}], about 1e-3",
                    "layers_out_of_range": len(bad),
                    "ratio": ratio,
                    "parameter": name,
                },
            )
        )
    return out


# ---------------------------------------------------------------------- TL910 / TL911
def _expected_initial_loss(r: Dict[str, Any]) -> Optional[float]:
    fn = r.get("fn")
    if r.get("reduction", "mean") != "mean":
        return None
    if fn == "cross_entropy" and (r.get("num_classes") or 0) >= 2:
        return math.log(r["num_classes"])
    if fn == "nll_loss" and (r.get("num_classes") or 0) >= 2:
        rows = r.get("rows") or {}
        if abs(num(rows.get("lse_max"), 1.0)) < 0.1 and abs(num(rows.get("lse_min"), 1.0)) < 0.1:
            return math.log(r["num_classes"])
    if fn in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        return math.log(2.0)
    return None


@finding("TL910")
def unexpected_initial_loss(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL910")
    hi, lo = float(o.get("max_ratio", 2.0)), float(o.get("min_ratio", 0.0))
    for r in c.ev.losses:
        if r.get("call") != 1:
            continue
        expected = _expected_initial_loss(r)
        value = c.ev.loss_value(r)
        if expected is None or not finite(value):
            continue
        ratio = value / expected
        if ratio > hi or ratio < lo:
            classes = f"ln({r.get('num_classes')})" if r.get("fn") in ("cross_entropy", "nll_loss") else "ln(2)"
            return [
                make(
                    c,
                    "TL910",
                    f"the first {r.get('fn')} loss is {fmt(value)}, {fmt(ratio)}x the {fmt(expected)} "
                    f"(= {classes}) of a model that starts out guessing uniformly. The output layer's "
                    "init or the input scale is off (or the loss is fed the wrong thing).",
                    r.get("site"),
                    {
                        "observed": f"initial loss {fmt(value)}",
                        "expected": f"about {fmt(expected)}",
                        "step": r.get("step"),
                        "ratio": ratio,
                    },
                )
            ]
    return []


@finding("TL911")
def label_out_of_range(c: Ctx) -> List[Diagnostic]:
    for r in c.ev.losses:
        t = r.get("target") or {}
        fn = r.get("fn")
        if (
            fn in ("cross_entropy", "nll_loss")
            and str(t.get("dtype", "")).startswith(("int", "uint"))
            and r.get("num_classes")
        ):
            lo, hi, n = t.get("min_valid"), t.get("max"), r["num_classes"]
            if (finite(lo) and lo < 0) or (finite(hi) and hi >= n):
                return [
                    make(
                        c,
                        "TL911",
                        f"class targets of `{fn}` range over [{fmt(lo)}, {fmt(hi)}] but the input has {n} "
                        f"classes (valid targets 0..{n - 1}). Fix the label encoding or the size of the "
                        "output layer.",
                        r.get("site"),
                        {
                            "observed": f"targets in [{fmt(lo)}, {fmt(hi)}]",
                            "expected": f"targets in [0, {n - 1}]",
                            "num_classes": n,
                            "step": r.get("step"),
                        },
                    )
                ]
        if fn in ("binary_cross_entropy", "binary_cross_entropy_with_logits") and finite(t.get("min")):
            if t["min"] < 0 or num(t.get("max"), 0.0) > 1:
                return [
                    make(
                        c,
                        "TL911",
                        f"targets of `{fn}` range over [{fmt(t['min'])}, {fmt(t.get('max'))}]; binary "
                        "cross-entropy needs targets in [0, 1].",
                        r.get("site"),
                        {
                            "observed": f"targets in [{fmt(t['min'])}, {fmt(t.get('max'))}]",
                            "expected": "targets in [0, 1]",
                            "step": r.get("step"),
                        },
                    )
                ]
    return []


# ---------------------------------------------------------------------- TL912 / TL913
@finding("TL912")
def loss_not_decreasing(c: Ctx) -> List[Diagnostic]:
    if not (c.ev.start or {}).get("overfit"):
        return []
    losses = [v for s in c.ev.steps for v in s.get("losses", []) if finite(v)]
    if len(losses) < 2:
        return []
    drop = float(c.opts("TL912").get("min_relative_decrease", 0.1))
    first, best = losses[0], min(losses[1:])
    if best <= first - drop * abs(first):
        return []
    back = c.ev.events_of("backward")
    site = next((r.get("site") for r in c.ev.losses), back[0].get("site") if back else None)
    return [
        make(
            c,
            "TL912",
            f"on one repeated batch the loss went from {fmt(first)} to at best {fmt(best)} in "
            f"{len(losses)} steps; a working model and loop overfits a single batch quickly. Check the "
            "loss inputs, the learning rate and that the optimizer updates the model.",
            site,
            {
                "observed": f"loss {fmt(first)} -> best {fmt(best)} over {len(losses)} steps",
                "expected": f"a drop of at least {fmt(100 * drop)}%",
                "losses": losses[:50],
            },
        )
    ]


@finding("TL913")
def wrong_custom_gradient(c: Ctx) -> List[Diagnostic]:
    out = []
    for f in c.ev.functions:
        if f.get("checked") and f.get("passed") is False:
            out.append(
                make(
                    c,
                    "TL913",
                    f"the backward of custom autograd Function `{f.get('name')}` disagrees with finite "
                    f"differences on inputs it saw in the run (directional derivative: backward "
                    f"{fmt(f.get('analytic'))}, numeric {fmt(f.get('numeric'))}). Fix its `backward` "
                    "formula.",
                    f.get("site"),
                    {
                        "observed": f"backward {fmt(f.get('analytic'))} vs finite differences {fmt(f.get('numeric'))}",
                        "expected": "agreement within gradcheck tolerances",
                        "gradcheck": f.get("message"),
                        "input_shapes": f.get("shapes"),
                    },
                )
            )
    return out


# ---------------------------------------------------------------------- TL003
def script_error(c: Ctx, steps: int, timeout: float) -> List[Diagnostic]:
    ev = c.ev
    reason = ev.stop_reason()
    done = ev.total_steps
    out = ev.outcome or {}
    site: Optional[Dict[str, Any]] = None
    data: Dict[str, Any] = {"steps_completed": done, "steps_requested": steps}
    if reason == "error":
        frames = out.get("frames") or []
        site = frames[-1] if frames else None
        message = (
            f"the script raised {out.get('type')}: {str(out.get('message', '')).splitlines()[0][:300] if out.get('message') else ''} "
            f"after {done} of {steps} step(s); the evidence gathered until then is kept."
        )
        data.update(observed=f"{out.get('type')}: {str(out.get('message', ''))[:300]}", traceback=frames)
    elif reason == "exit":
        message = f"the script exited with status {out.get('code')} after {done} of {steps} step(s)."
        data.update(observed=f"sys.exit({out.get('code')!r})")
    elif reason == "timeout":
        message = (
            f"the script did not reach {steps} step(s) within {fmt(timeout)} s ({done} done) and was stopped, "
            "with every process it started; raise --timeout if it is just slow to start."
        )
        data.update(observed=f"timeout after {fmt(ev.duration)} s")
    elif reason == "crashed":
        sig = signal_name(ev.returncode)
        how = f"was killed by {sig}" if sig else f"ended abruptly (exit status {ev.returncode}, e.g. os._exit)"
        message = f"the script {how} after {done} of {steps} step(s); the evidence gathered until then is kept."
        data.update(observed=how, returncode=ev.returncode)
    else:
        return []
    return [make(c, "TL003", message, site, data)]
