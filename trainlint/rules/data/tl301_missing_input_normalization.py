"""TL301 missing-input-normalization: Inputs reach the model without being scaled or normalised."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.facts import Scope
from trainlint.analysis.loops import Event
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.data.common import cached_findings, in_module
from trainlint.runtime.judging.common import input_normaliser, input_scale_problem
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted
from trainlint.runtime.records import InputBatch, TensorStats


def _frames(e: Event) -> List[D.CallFrame]:
    """The call chain from a loop down to the helper an event is in, as tracer frames."""
    frames: List[D.CallFrame] = []
    for i, (caller, call) in enumerate(e.via):
        callee = e.via[i + 1][0] if i + 1 < len(e.via) else e.scope
        frames.append(D.CallFrame(callee, call, caller, isinstance(call.func, cst.Attribute)))
    return frames


_KIND_TEXT = {
    "uint8": "raw 8-bit pixel values (0-255)",
    "range": "raw integer values {detail}",
    "table": "feature columns read with `{detail}`",
}


def _tl301(ctx: RuleContext) -> List[Finding]:
    project, resolver = ctx.project, ctx.resolver
    tracer = D.DataTracer(project, resolver, D.SCALE)
    out: List[Finding] = []
    seen_calls: Set[int] = set()
    reported: Set[int] = set()
    for m in project.modules:
        for lf in ctx.loops.loops_of(m):
            if not D.is_training_loop(lf):
                continue
            for e in lf.events:
                if e.kind != L.FORWARD or e.no_grad or not isinstance(e.node, cst.Call):
                    continue
                call = e.node
                if id(call) in seen_calls:
                    continue
                seen_calls.add(id(call))
                if not call.args or call.args[0].keyword is not None or call.args[0].star:
                    continue
                if D.first_layer_normalizes(project, resolver, call, e.scope):
                    continue
                if _reconstruction_target(ctx, call, e.scope):
                    continue  # an autoencoder's BCE target must stay in [0, 1]
                for hit in tracer.sources(call.args[0].value, e.scope, _frames(e)):
                    finding = _tl301_finding(hit, e)
                    if finding is not None and id(finding.node) not in reported:
                        reported.add(id(finding.node))
                        out.append(finding)
    return out


def _reconstruction_target(ctx: RuleContext, forward: cst.Call, scope: Scope) -> bool:
    """The model's input is also handed to the loss (an autoencoder reconstructing it)."""
    bases = _base_names(forward.args[0].value, scope)
    if not bases:
        return False
    for call in scope.calls:
        if call is forward or not any(_base_names(a.value, scope) & bases for a in call.args):
            continue
        qual = scope.module.qualify(call.func)
        if K.is_functional_loss(qual):
            return True
        callee = ctx.project.resolve_callee(call.func, scope)
        if isinstance(callee, Scope) and any(
            w in callee.simple_name.lower() for w in ("loss", "criterion", "elbo", "recon")
        ):
            return True
        if isinstance(call.func, (cst.Name, cst.Attribute)) and callee is None:
            v = ctx.resolver.value_of(call.func, scope)
            if v is not None and v.kind == K.LOSS:
                return True
    return False


def _base_names(expr: cst.BaseExpression, scope: Scope) -> Set[str]:
    """The variable an expression reshapes, following `b_x = x.view(-1, 784)`-style copies
    (not loop targets or tuple unpacking: `x` and `y` of one batch are different data)."""
    out: Set[str] = set()
    root = D.root_name(expr)
    idx = D.scope_index(scope)
    for _ in range(4):
        if root is None or root in out:
            break
        out.add(root)
        defs = idx.defs.get(root, [])
        if len(defs) != 1 or defs[0].how != "assign" or defs[0].path or isinstance(defs[0].value, cst.Name):
            break
        value = defs[0].value
        if not isinstance(value, (cst.Call, cst.Attribute, cst.Subscript)):
            break
        root = D.root_name(value)
    return out


def _tl301_finding(hit: D.Hit, forward: Event) -> Optional[Finding]:
    model_call = (forward.module, forward.node, "the model that receives these inputs")
    if hit.kind == "transform":
        if D.module_normalizes_images(hit.module):
            return None  # normalised on the other paths: a smoke-test or visualisation branch
        return Finding(
            "TL301",
            hit.module,
            hit.node,
            "this image pipeline ends in `ToTensor()` (pixels scaled to [0, 1]) but never applies "
            "`Normalize(mean, std)`, so the network sees inputs that are all positive and off-centre, "
            "which slows and destabilises training (and pretrained weights expect normalised inputs). "
            "Add `transforms.Normalize(mean, std)` after `ToTensor()`, with the dataset's per-channel "
            "statistics.",
            related=[model_call],
        )
    if hit.floated is None:
        return None  # never turned into floats: ids/labels, or a conversion we did not see
    what = _KIND_TEXT.get(hit.kind, "raw values").format(detail=hit.detail)
    where_mod, where = hit.floated
    if hit.kind == "table":
        fix = (
            "Standardise the features with statistics of the training split (e.g. "
            "`sklearn.preprocessing.StandardScaler`, or `(x - mean) / std`)."
        )
        why = (
            "columns on very different scales make the loss surface badly conditioned: large-valued "
            "features dominate the gradients and the learning rate that suits one column is wrong for "
            "the others."
        )
    else:
        fix = "Divide by 255 (`x.float() / 255.`) and, ideally, normalise with the dataset's mean and std."
        why = (
            "activations and gradients come out hundreds of times larger than with inputs near [-1, 1], "
            "so training diverges or needs a tiny learning rate."
        )
    return Finding(
        "TL301",
        where_mod,
        where,
        f"{what} become a float tensor here and reach the model without being scaled: {why} {fix}",
        related=[(hit.module, hit.node, f"the unscaled source ({hit.detail})"), model_call],
    )


def missing_input_normalization(ctx: RuleContext) -> Iterator[Finding]:
    yield from in_module(ctx, cached_findings(ctx, _tl301))


def _float_inputs(c: Ctx, d: Diagnostic) -> List[Tuple[InputBatch, TensorStats]]:
    out = []
    for rec in c.prefer(d, c.ev.inputs, lambda r: r.site):
        for t in rec.tensors:
            if str(t.dtype).startswith(("float", "bfloat")) and t.mean is not None:
                out.append((rec, t))
    return out


def verdict_tl301(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    found = _float_inputs(c, d)
    if not found:
        return None
    for rec, _ in found:
        norm = input_normaliser(c, rec.model)
        if norm is not None:
            return refuted(
                observed=f"the first batch fed to `{rec.model}` goes straight into `{norm[0]}` "
                f"({norm[1]}), which normalises it",
                where=c.where(rec.site),
            )
    for rec, t in found:
        problem = input_scale_problem(c, t)
        if problem:
            return confirmed(
                observed=f"the first batch fed to `{rec.model}`: {problem}; mean {fmt(t.mean)}, "
                f"std {fmt(t.std)}, range [{fmt(t.min)}, {fmt(t.max)}]",
                expected="roughly zero mean and unit scale",
                where=c.where(rec.site),
                shape=t.shape,
            )
    rec, t = found[0]
    return refuted(
        observed=f"the first batch fed to `{rec.model}` is already on a small scale: mean "
        f"{fmt(t.mean)}, std {fmt(t.std)}, range [{fmt(t.min)}, {fmt(t.max)}]",
        where=c.where(rec.site),
    )


RULE = Rule(
    code="TL301",
    name="missing-input-normalization",
    family="data",
    severity=WARNING,
    summary="Inputs reach the model without being scaled or normalised.",
    check=missing_input_normalization,
    verdict=verdict_tl301,
)
