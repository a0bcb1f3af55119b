"""TL3xx: data and inputs (normalisation, shuffling, missing values).

Each rule computes its findings once per project (a finding's location may be in another
file than the loop that revealed it) and yields those that belong to the module at hand.
"""

from __future__ import annotations

from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.loops import Event
from trainlint.diagnostics import Severity
from trainlint.rules import Finding, RuleContext, rule


def _cached(ctx: RuleContext, key: str, build: Callable[[RuleContext], List[Finding]]) -> List[Finding]:
    cache = ctx.project.__dict__.setdefault("_tl_data_findings", {})
    if key not in cache:
        cache[key] = build(ctx)
    return cache[key]  # type: ignore[no-any-return]


def _mine(ctx: RuleContext, findings: List[Finding]) -> Iterator[Finding]:
    for f in findings:
        if f.module is ctx.module:
            yield f


def _frames(e: Event) -> List[D._Frame]:
    """The call chain from a loop down to the helper an event is in, as tracer frames."""
    frames: List[D._Frame] = []
    for i, (caller, call) in enumerate(e.via):
        callee = e.via[i + 1][0] if i + 1 < len(e.via) else e.scope
        frames.append(D._Frame(callee, call, caller, isinstance(call.func, cst.Attribute)))
    return frames


# ------------------------------------------------------------------------------ TL301

_KIND_TEXT = {
    "uint8": "raw 8-bit pixel values (0-255)",
    "range": "raw integer values {detail}",
    "table": "feature columns read with `{detail}`",
}


def _tl301(ctx: RuleContext) -> List[Finding]:
    project, resolver = ctx.project, ctx.resolver
    tracer = D.Tracer(project, resolver, D.SCALE)
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
        if isinstance(callee, Scope) and any(w in callee.simple_name.lower() for w in ("loss", "criterion", "elbo", "recon")):
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


@rule("TL301")
def missing_input_normalization(ctx: RuleContext) -> Iterator[Finding]:
    yield from _mine(ctx, _cached(ctx, "TL301", _tl301))


# ------------------------------------------------------------------------------ TL302


def _tl302(ctx: RuleContext) -> List[Finding]:
    project = ctx.project
    out: List[Finding] = []
    for use in D.training_loaders(project, ctx.loops):
        call = use.call
        if D.has_star_args(call):
            continue  # `**loader_kwargs` may carry shuffle/sampler
        shuffle = D.call_arg(call, 2, "shuffle")
        sampler = D.call_arg(call, 3, "sampler")
        batch_sampler = D.call_arg(call, 4, "batch_sampler")
        if any(s is not None and not D.is_false_or_none(s) for s in (sampler, batch_sampler)):
            continue
        if shuffle is not None and not D.is_false_or_none(shuffle):
            continue  # shuffle=True, or a value decided at run time
        dataset = D.call_arg(call, 0, "dataset")
        iterable = D.dataset_is_iterable(project, dataset, use.scope)
        if iterable:
            continue  # an IterableDataset orders its own stream; shuffle=True would raise
        explicit = shuffle is not None
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]]
        if use.lightning_hook is not None:
            where = "is returned by `train_dataloader()`"
            related = [(use.lightning_hook.module, use.lightning_hook.node, "the Lightning hook that serves it for training")]
        else:
            lf = use.loops[0]
            where = "is iterated by a training loop (one that calls `backward()`)"
            head = lf.node.iter if isinstance(lf.node, cst.For) else lf.node
            related = [(lf.scope.module, head, "the training loop that reads it")]
        setting = "`shuffle=False`" if explicit else "no `shuffle=True` and no sampler"
        unknown = "" if iterable is False else " (if the dataset is an `IterableDataset`, shuffle it in the stream instead)"
        out.append(
            Finding(
                "TL302",
                use.module,
                call,
                f"this DataLoader {where} but has {setting}, so every epoch visits the samples in the "
                "same stored order: batches are correlated (often grouped by class or time), the gradient "
                "estimate is biased and the model can learn the order. Pass `shuffle=True` (or a "
                f"`sampler`, e.g. `DistributedSampler`){unknown}.",
                related=related,
                severity=None if iterable is False else Severity.INFO,
                fix_builder=fixes.hook(fixes.fix_tl302, use.module, call, iterable is False),
            )
        )
    return out


@rule("TL302")
def unshuffled_training_data(ctx: RuleContext) -> Iterator[Finding]:
    yield from _mine(ctx, _cached(ctx, "TL302", _tl302))


# ------------------------------------------------------------------------------ TL303

_TENSOR_FROM_DATA = {
    "torch.tensor", "torch.as_tensor", "torch.from_numpy", "torch.Tensor", "torch.FloatTensor",
    "torch.DoubleTensor", "torch.asarray", "torch.cuda.FloatTensor",
}


_READER_WORDS = ("read_csv", "read_table", "read_excel", "genfromtxt")


def _tl303(ctx: RuleContext) -> List[Finding]:
    project = ctx.project
    if not any(any(r in m.text for r in _READER_WORDS) for m in project.modules):
        return []  # no table is read anywhere: nothing to trace
    tracer = D.Tracer(project, ctx.resolver, D.NAN)
    by_source: Dict[int, Tuple[D.Hit, ModuleFacts, cst.Call]] = {}
    order: List[int] = []
    for m in project.modules:
        for scope in m.scopes:
            for call in scope.calls:
                if m.qualify(call.func) not in _TENSOR_FROM_DATA or not call.args or call.args[0].star:
                    continue
                for hit in tracer.sources(call.args[0].value, scope):
                    if hit.kind != "nan-table" or id(hit.node) in by_source:
                        continue
                    if D.module_handles_nan(hit.module) or D.module_handles_nan(m):
                        continue
                    by_source[id(hit.node)] = (hit, m, call)
                    order.append(id(hit.node))
    out: List[Finding] = []
    for key in order:
        hit, conv_mod, conv = by_source[key]
        out.append(
            Finding(
                "TL303",
                conv_mod,
                conv,
                f"data read with `{hit.detail}` becomes a tensor here without "
                "any handling of missing values; an empty cell turns into NaN, and a single NaN in a batch "
                "makes the loss and every gradient NaN, which then spreads into all weights. Drop or fill "
                "missing values first (`df.dropna()`, `df.fillna(...)`, `SimpleImputer`, or "
                "`np.nan_to_num`).",
                related=[(hit.module, hit.node, "where the data is read")],
            )
        )
    return out


@rule("TL303")
def nan_prone_input(ctx: RuleContext) -> Iterator[Finding]:
    yield from _mine(ctx, _cached(ctx, "TL303", _tl303))

