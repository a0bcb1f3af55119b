"""TL301 missing-input-normalization: Inputs reach the model without being scaled or normalised."""

from __future__ import annotations

import re
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import data as D
from trainlint.analysis import flow as FL
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.loops import Event
from trainlint.analysis.names import dotted
from trainlint.analysis.symbols import return_values
from trainlint.analysis.walk import walk
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
                    if hit.kind == "table" and hit.detail == "numpy.load" and _project_saves_arrays(ctx):
                        continue  # arrays the project's own preprocessing wrote, scaled as it chose
                    finding = _tl301_finding(hit, e)
                    if finding is not None and id(finding.node) not in reported:
                        reported.add(id(finding.node))
                        out.append(finding)
    return out


_ARRAY_WRITERS = frozenset({"numpy.save", "numpy.savez", "numpy.savez_compressed"})


def _project_saves_arrays(ctx: RuleContext) -> bool:
    """Some module of the project writes `.npy`/`.npz` files (`np.save(path, volume)`): the
    arrays a loader reads back are its preprocessing's output, not raw measurements."""
    modules = ctx.project.modules
    return ctx.project.once(
        _project_saves_arrays,
        lambda: any(
            "save" in m.text and any(m.qualify(c.func) in _ARRAY_WRITERS for s in m.scopes for c in s.calls)
            for m in modules
        ),
    )


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
    if "255" in ctx.module.text:
        yield from _paths_scaled_differently(ctx)
    if "uint8" in ctx.module.text and not _project_scales_by_255(ctx):
        # (a Q-network that divides by 255 in its `forward` scales what the buffer hands out)
        yield from _frames_returned_as_floats(ctx)


def _project_scales_by_255(ctx: RuleContext) -> bool:
    modules = ctx.project.modules
    return ctx.project.once(
        _project_scales_by_255, lambda: any("255" in m.text and _divides_by_255(m.tree) for m in modules)
    )


def _paths_scaled_differently(ctx: RuleContext) -> Iterator[Finding]:
    """A function with one return that divides by 255 and another that only turns its value
    into floats (`return self.frames[i - 3 : i + 1].float()` beside `return state / 255.0`,
    a replay buffer's fast path): on that path the model sees values 255 times larger."""
    for scope in ctx.module.scopes:
        if scope.name == "<module>":
            continue
        values = return_values(scope)
        scaled = [v for v in values if _divides_by_255(v)]
        if not scaled or _chosen_by_kind(scope, scaled[0]):
            continue
        for v in values:
            if _floated(v) and not _divides_by_255(v) and not _chosen_by_kind(scope, v):
                pos = FL.position(ctx.module, scaled[0])
                where = f" (line {pos.start.line})" if pos is not None else ""
                yield Finding(
                    "TL301",
                    ctx.module,
                    v,
                    f"this return of `{scope.simple_name}` turns the values into floats without scaling them, "
                    f"while another return of the same function divides by 255{where}: whenever this path "
                    "runs, the model gets raw 0-255 values, 255 times larger than on the other path, and "
                    "the network trains on two scales at once. Divide by 255 here as well "
                    "(`x.float() / 255.0`).",
                    related=[(ctx.module, scaled[0], "the path that scales by 255")],
                )


def _frames_returned_as_floats(ctx: RuleContext) -> Iterator[Finding]:
    """A method that returns a slice of a uint8 image buffer of its class cast to float
    (`return self.frames[start:end].type(torch.float)`, the buffer made by `torch.zeros((n,) +
    frame_shape, dtype=torch.uint8)`) with nothing dividing by 255: raw pixels, as floats."""
    for scope in ctx.module.scopes:
        cls = scope.cls
        if cls is None:
            continue
        for v in return_values(scope):
            if not _floated(v) or _divides_by_255(v):
                continue
            assert isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute)
            base = v.func.value
            while isinstance(base, cst.Subscript):
                base = base.value
            key = dotted(base)
            made = [b.value for b in cls.attrs.get(key or "", [])] if key and key.startswith("self.") else []
            frame = next((m for m in made if _image_buffer(ctx.module, m)), None)
            if frame is None:
                continue
            yield Finding(
                "TL301",
                ctx.module,
                v,
                f"`{scope.simple_name}` returns frames of `{key}`, an 8-bit image buffer (0-255), cast to floats "
                "without scaling: the network gets raw pixel values, and its activations and gradients come "
                "out hundreds of times larger than with inputs in [0, 1], so training diverges or needs a tiny "
                "learning rate. Divide by 255 (`x.float() / 255.0`).",
                related=[(ctx.module, frame, "the uint8 buffer")],
            )


def _image_buffer(module: ModuleFacts, value: cst.BaseExpression) -> bool:
    """`torch.zeros((n,) + shape, dtype=torch.uint8)` / `np.zeros((n, 84, 84), np.uint8)`: a
    buffer of 8-bit values with more than one dimension (a 1-D one holds flags)."""
    if not isinstance(value, cst.Call) or not (module.qualify(value.func) or "").endswith(("zeros", "empty", "full")):
        return False
    if not any("uint8" in (dotted(a.value) or "") for a in value.args):
        return False
    shape = value.args[0].value if value.args and value.args[0].keyword is None else None
    return (isinstance(shape, cst.Tuple) and len(shape.elements) > 1) or (
        isinstance(shape, cst.BinaryOperation) and isinstance(shape.operator, cst.Add)
    )


# Words of a test that picks a path by the kind of data (`if normalize_images and
# is_image_space(space)`, `isinstance(space, spaces.Box)`): each path then gets other data.
_KIND_TEST = re.compile(r"(?i)image|img|pixel|normali|scale|isinstance|dtype|uint8|rgb|visual|type\(")


def _chosen_by_kind(scope: Scope, node: cst.CSTNode) -> bool:
    """An `if` around the return tests what kind of data it has."""
    return any(
        isinstance(c, cst.If) and _KIND_TEST.search(scope.module.tree.code_for_node(c.test))
        for c in SC.enclosing(scope, node)
    )


def _divides_by_255(expr: cst.CSTNode) -> bool:
    """`x / 255`, `x.div(255)`, `x.div_(255.)`, `x.mul(1 / 255)` anywhere in `expr`."""
    for n in walk(expr):
        if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Divide) and _is_255(n.right):
            return True
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and len(n.args) == 1:
            arg, method = n.args[0].value, n.func.attr.value
            if method in ("div", "div_") and _is_255(arg):
                return True
            if method in ("mul", "mul_") and isinstance(arg, cst.BinaryOperation) and _divides_by_255(arg):
                return True
    return False


def _is_255(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float)) and _number(expr.value) == 255


def _number(text: str) -> Optional[float]:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


def _floated(expr: cst.BaseExpression) -> bool:
    """`x.float()`, `x.to(torch.float32)`, `x.type(torch.float)`: a cast to floating point."""
    if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
        return False
    name = expr.func.attr.value
    if name in ("float", "double", "half") and not expr.args:
        return True
    return name in ("to", "type") and any("float" in (dotted(a.value) or "") for a in expr.args)


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
