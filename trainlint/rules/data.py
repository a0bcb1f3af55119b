"""TL3xx: data and inputs (normalisation, shuffling, missing values).

Each rule computes its findings once per project (a finding's location may be in another
file than the loop that revealed it) and yields those that belong to the module at hand.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
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


def _frames(e: Event) -> List[D.CallFrame]:
    """The call chain from a loop down to the helper an event is in, as tracer frames."""
    frames: List[D.CallFrame] = []
    for i, (caller, call) in enumerate(e.via):
        callee = e.via[i + 1][0] if i + 1 < len(e.via) else e.scope
        frames.append(D.CallFrame(callee, call, caller, isinstance(call.func, cst.Attribute)))
    return frames


# ------------------------------------------------------------------------------ TL301

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


@rule("TL301")
def missing_input_normalization(ctx: RuleContext) -> Iterator[Finding]:
    yield from _mine(ctx, _cached(ctx, "TL301", _tl301))


# ------------------------------------------------------------------------------ TL302


_PRESHUFFLE = ("shuffle", "permutation")


def _dataset_facts(ctx: RuleContext, use: D.LoaderUse) -> str:
    """Why the loader's order cannot matter ("silent"), or how its dataset is ordered: "split"
    (a `random_split` subset: a random order fixed once), "" (stored order, unknown)."""
    project = ctx.project
    dataset = C.arg(use.call, 0, "dataset", skip_star=True)
    origins = D.dataset_origins(project, dataset, use.scope)
    if not origins:
        return ""
    batch = C.arg(use.call, 1, "batch_size", skip_star=True)
    batch_size = 1.0 if batch is None else D.number(batch)
    if batch_size is not None:
        sizes = [D.dataset_length(project, o, sc) for o, sc in origins]
        if all(n is not None and n <= batch_size for n in sizes):
            return "silent"  # one batch per epoch: its order cannot matter
    if all(D.synthetic_dataset(project, o, sc) for o, sc in origins):
        return "silent"  # random tensors: i.i.d. draws, nothing in their order
    if all(
        isinstance(o, cst.Call) and isinstance(o.func, cst.Attribute) and o.func.attr.value in _PRESHUFFLE
        for o, _ in origins
    ):
        return "silent"  # `dataset.shuffle(seed=...)`: already in random order
    quals = [sc.module.qualify(o.func) if isinstance(o, cst.Call) else None for o, sc in origins]
    if all((q or "").endswith("random_split") for q in quals):
        return "split"
    return ""


def _tl302(ctx: RuleContext) -> List[Finding]:
    project = ctx.project
    out: List[Finding] = []
    for use in D.training_loaders(project, ctx.loops):
        call = use.call
        if D.has_star_args(call):
            continue  # `**loader_kwargs` may carry shuffle/sampler
        shuffle = C.arg(call, 2, "shuffle", skip_star=True)
        sampler = C.arg(call, 3, "sampler", skip_star=True)
        batch_sampler = C.arg(call, 4, "batch_sampler", skip_star=True)
        if any(s is not None and not D.is_false_or_none(s) for s in (sampler, batch_sampler)):
            continue
        if shuffle is not None and not D.is_false_or_none(shuffle):
            continue  # shuffle=True, or a value decided at run time
        if D.in_dead_code(use.scope, call):
            continue  # the `else` of `if True:`: never runs
        dataset = C.arg(call, 0, "dataset", skip_star=True)
        iterable = D.dataset_is_iterable(project, dataset, use.scope)
        if iterable:
            continue  # an IterableDataset orders its own stream; shuffle=True would raise
        if iterable is None and use.fit_call is not None and use.lightning_hook is None and not use.loops:
            continue  # seen only through `Trainer.fit`: reported when the dataset is known map-style
        order = _dataset_facts(ctx, use)
        if order == "silent":
            continue
        explicit = shuffle is not None
        once = (
            use.lightning_hook is None
            and use.fit_call is None
            and bool(use.loops)
            and all(D.single_pass(project, lf) for lf in use.loops)
        )
        if explicit and once:
            # `shuffle=False` written out for a loader read in one single pass: a deliberate
            # choice (every rank must see the same sample, a fixed benchmark), and with no
            # second epoch there is no repeated order to warn about.
            continue
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]]
        if use.lightning_hook is not None:
            where = "is returned by `train_dataloader()`"
            related = [
                (use.lightning_hook.module, use.lightning_hook.node, "the Lightning hook that serves it for training")
            ]
        elif use.fit_call is not None:
            fit_scope, fit = use.fit_call
            where = "is passed to Lightning's `Trainer.fit` as the training data"
            related = [(fit_scope.module, fit, "the Trainer trains on it here")]
        else:
            lf = use.loops[0]
            where = "is iterated by a training loop (one that calls `backward()`)"
            head = lf.node.iter if isinstance(lf.node, cst.For) else lf.node
            related = [(lf.scope.module, head, "the training loop that reads it")]
        setting = "`shuffle=False`" if explicit else "no `shuffle=True` and no sampler"
        unknown = (
            "" if iterable is False else " (if the dataset is an `IterableDataset`, shuffle it in the stream instead)"
        )
        if order == "split":
            effect = (
                "the `random_split` subset keeps the random order it was drawn in once, so every epoch "
                "repeats exactly the same batches; reshuffling each epoch gives the gradient noise SGD "
                "relies on."
            )
        elif once:
            effect = (
                "the samples arrive in their stored order: if that order follows the class, the source or "
                "time, consecutive batches are correlated and the gradient estimate is biased."
            )
        else:
            effect = (
                "every epoch visits the samples in the same stored order: if that order follows the class, "
                "the source or time, consecutive batches are correlated and the gradient estimate is "
                "biased, and even otherwise every epoch repeats the same batches."
            )
        out.append(
            Finding(
                "TL302",
                use.module,
                call,
                f"this DataLoader {where} but has {setting}, so {effect} Pass `shuffle=True` (or a "
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
    "torch.tensor",
    "torch.as_tensor",
    "torch.from_numpy",
    "torch.Tensor",
    "torch.FloatTensor",
    "torch.DoubleTensor",
    "torch.asarray",
    "torch.cuda.FloatTensor",
}


_READER_WORDS = ("read_csv", "read_table", "read_excel", "genfromtxt")
# A column of class labels (or targets): integer codes, not features that may have gaps.
_LABEL_KEY = re.compile(r"^(?:.*[_ ])?(?:labels?|targets?|class(?:es)?|category|categories|y)$", re.IGNORECASE)


def _integer_conversions(module: ModuleFacts) -> Set[int]:
    """Tensor conversions (ids) whose result is cast to an integer or bool type right away:
    `torch.tensor(x).long()`, `torch.from_numpy(a).to(torch.int64)`."""
    cached = module.cache.get("data.int_conversions")
    if isinstance(cached, set):
        return cached
    out: Set[int] = set()
    for scope in module.scopes:
        for call in scope.calls:
            func = call.func
            if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Call):
                continue
            m = func.attr.value
            if m in D.INT_METHODS and not call.args:
                out.add(id(func.value))
            elif m in ("to", "type"):
                dtype = C.arg(call, None, "dtype", skip_star=True) or (call.args[0].value if call.args else None)
                if D.dtype_kind(dtype, module) in ("int", "uint8"):
                    out.add(id(func.value))
    module.cache["data.int_conversions"] = out
    return out


def _integer_tensor(call: cst.Call, qual: str, module: ModuleFacts) -> bool:
    """The conversion makes an integer or bool tensor: it cannot hold NaN (labels, ids, indices,
    token ids)."""
    if qual in D.INT_CONVERTERS or D.dtype_kind(C.arg(call, None, "dtype", skip_star=True), module) in ("int", "uint8"):
        return True
    return id(call) in _integer_conversions(module)


def _label_column(expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
    """The converted data is one column selected by a label-like key (`df["label"].values`,
    `row["target"]`), following simple names."""
    node: cst.BaseExpression = expr
    for _ in range(8):
        if isinstance(node, cst.Attribute):
            if node.attr.value not in ("values", "array", "iloc", "loc"):
                return False
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value not in ("to_numpy", "astype", "tolist", "to_list", "item", "squeeze", "reshape"):
                return False
            node = node.func.value
        elif isinstance(node, cst.Subscript):
            if len(node.slice) == 1:
                idx = node.slice[0].slice
                if isinstance(idx, cst.Index) and isinstance(idx.value, cst.SimpleString):
                    key = idx.value.evaluated_value
                    return isinstance(key, str) and bool(_LABEL_KEY.match(key))
            return False
        elif isinstance(node, cst.Name) and depth < 4:
            defs, open_before = D.scope_index(scope).reaching(node.value, node)
            if len(defs) != 1 or open_before or defs[0].how != "assign" or defs[0].path:
                return False
            return _label_column(defs[0].value, scope, depth + 1)
        else:
            return False
    return False


def _tl303(ctx: RuleContext) -> List[Finding]:
    project = ctx.project
    if not any(any(r in m.text for r in _READER_WORDS) for m in project.modules):
        return []  # no table is read anywhere: nothing to trace
    tracer = D.DataTracer(project, ctx.resolver, D.NAN)
    by_source: Dict[int, Tuple[D.Hit, ModuleFacts, cst.Call]] = {}
    order: List[int] = []
    for m in project.modules:
        for scope in m.scopes:
            for call in scope.calls:
                qual = m.qualify(call.func)
                if qual not in _TENSOR_FROM_DATA or not call.args or call.args[0].star:
                    continue
                if _integer_tensor(call, qual, m):
                    continue  # labels, ids, indices, token ids: an integer tensor holds no NaN
                if _label_column(call.args[0].value, scope):
                    continue  # a column of class labels, not features
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
