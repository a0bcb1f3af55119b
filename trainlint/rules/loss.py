"""TL2xx: the loss and the output layer (what a loss is fed, softmax without dim).

Every finding here rests on resolved facts: the loss is known from what built it
(`nn.CrossEntropyLoss()`, `F.nll_loss`), never from a variable's name, and the operation
before it is traced through assignments, helpers and the model's `forward`. When either is
unknown or the definitions disagree, nothing is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.flow import LossCall, Op
from trainlint.diagnostics import Severity
from trainlint.rules import Finding, RuleContext, rule

Related = List[Tuple[ModuleFacts, cst.CSTNode, str]]

_OP_WORDS = {
    M.SOFTMAX: "softmax",
    M.LOG_SOFTMAX: "log_softmax",
    M.SIGMOID: "sigmoid",
    M.TANH: "tanh",
    M.RELU: "ReLU",
    M.LINEAR: "a linear layer",
}


def _traced(ctx: RuleContext, family: str) -> Iterator[Tuple[LossCall, Op]]:
    """Loss calls of `family` in this module whose input's last operation is known."""
    tracer = FL.tracer_for(ctx.project, ctx.resolver)
    for lc in FL.loss_calls(ctx.module, ctx.resolver):
        if lc.family != family or lc.guess or lc.input is None:
            continue
        op = tracer.op(lc.input, lc.scope)
        if op is None or op.kind == M.TUPLE:
            continue
        if op.kind == M.ALTERNATIVES:  # each model the code may build, judged on its own
            yield from ((lc, alt) for alt in op.elements if alt is not None)
            continue
        yield lc, op


def _inline(lc: LossCall, op: Op) -> bool:
    assert lc.input is not None
    return FL.strip_shape(lc.input, lc.module) is op.node


def _describe(
    lc: LossCall, op: Op, others: Optional[Related] = None, at: Optional[cst.CSTNode] = None
) -> Tuple[str, Related, str]:
    """(where the operation comes from, related locations, what to change), for messages."""
    related: Related = []
    if op.owner is not None and op.module is lc.module:
        related.append((lc.module, lc.node, f"`{lc.name}` is fed this model's output here"))
    text = op.text()
    if op.owner is not None and op.owner.startswith("nn."):
        phrase = f"the model's last layer is `{text}` ({FL.where(op.module, op.node)})"
        related.append((op.module, op.node, f"the model's last layer, `{text}`"))
        fix = f"remove the final `{text}` from the model"
    elif op.owner is not None:
        assert op.owner_module is not None and op.owner_node is not None
        returns = FL.where(op.owner_module, op.owner_node)
        if op.owner_node is op.node:
            phrase = f"`{op.owner}` ({returns}) already returns `{text}`"
        else:
            phrase = f"`{op.owner}` ({returns}) ends with `{text}` ({FL.where(op.module, op.node)})"
        related.append((op.module, op.node, f"`{text}` is applied here, inside the model"))
        fix = f"return the raw scores from `{op.owner}`"
    elif _inline(lc, op):
        phrase = f"its input is `{text}`"
        fix = "pass the raw scores"
    else:
        phrase = f"its input comes from `{text}` ({FL.where(op.module, op.node)})"
        related.append((op.module, op.node, f"`{text}` is applied here"))
        fix = "pass the raw scores"
    related.extend(others or [])
    if lc.ctor is not None and lc.ctor_module is not None:
        related.append((lc.ctor_module, lc.ctor, f"the `{lc.name}` is built here"))
    return phrase, [r for r in related if r[1] is not at], fix


def _node(lc: LossCall, op: Op) -> cst.CSTNode:
    return op.node if _inline(lc, op) else lc.node


@dataclass
class _Site:
    """One defect to report: the first loss call that sees it, the operation, where to report,
    and the message parts `_describe` makes of them."""

    lc: LossCall
    op: Op
    node: cst.CSTNode
    phrase: str
    related: Related
    fix: str


def _defects(ctx: RuleContext, family: str, kinds: Tuple[str, ...]) -> Iterator[_Site]:
    """Each defect once, with the other loss calls of this module fed by the same operation as
    related locations. A model's defect (its last layer, what its `forward` returns) is reported
    at the model's layer when the model is in this module, else at the first loss call that sees
    it; the training, validation and test steps are one defect."""
    once = _Once()
    groups: List[Tuple[LossCall, Op, cst.CSTNode, Related]] = []
    by_op: Dict[int, int] = {}  # id(operation node) -> its group
    for lc, op in _traced(ctx, family):
        if op.kind not in kinds:
            continue
        if op.owner is not None:
            key = id(op.node)
            if key in by_op:
                others = groups[by_op[key]][3]
                others.append((lc.module, lc.node, f"`{lc.name}` is fed this model's output here too"))
                continue
            node = op.node if op.module is ctx.module else lc.node
            by_op[key] = len(groups)
            once.first(node, lc, op)
            groups.append((lc, op, node, []))
            continue
        node = _node(lc, op)
        if once.first(node, lc, op):
            groups.append((lc, op, node, []))
    for lc, op, node, others in groups:  # described once every loss call is grouped
        phrase, related, fix = _describe(lc, op, others, node)
        yield _Site(lc, op, node, phrase, related, fix)


class _Once:
    """One finding per reported node, and one per cause and line: `(loss(D(real), y1) +
    loss(D(fake), y0)) / 2` against a model ending in a sigmoid is one mistake, not two."""

    def __init__(self) -> None:
        self.seen: Set[object] = set()

    def first(self, node: cst.CSTNode, lc: Optional[LossCall] = None, op: Optional[Op] = None) -> bool:
        keys: List[object] = [id(node)]
        if lc is not None and op is not None:
            pos = FL.position(lc.module, lc.node)
            keys.append((id(op.node), pos.start.line if pos is not None else id(lc.node)))
        if any(k in self.seen for k in keys):
            return False
        self.seen.update(keys)
        return True


@rule("TL201")
def softmax_before_cross_entropy(ctx: RuleContext) -> Iterator[Finding]:
    for d in _defects(ctx, FL.CROSS_ENTROPY, (M.SOFTMAX, M.LOG_SOFTMAX)):
        lc, op, phrase, fix = d.lc, d.op, d.phrase, d.fix
        if op.kind == M.SOFTMAX:
            message = (
                f"`{lc.name}` applies log_softmax itself, but {phrase}: the loss then sees probabilities "
                "squashed a second time, its gradient shrinks as predictions get confident and training "
                f"stalls. Feed raw logits: {fix} and apply softmax only for predictions."
            )
            severity = None
        else:
            message = (
                f"`{lc.name}` applies log_softmax itself, but {phrase}: the log_softmax is applied twice "
                "(same loss value, wasted work, and the model no longer says which loss it was built for). "
                f"Feed raw logits ({fix}), or keep the log_softmax and use `nn.NLLLoss`."
            )
            severity = Severity.WARNING
        yield Finding(
            "TL201",
            ctx.module,
            d.node,
            message,
            related=d.related,
            severity=severity,
            fix_builder=fixes.hook(fixes.fix_tl201, lc, op),
        )


@rule("TL202")
def sigmoid_before_bce_with_logits(ctx: RuleContext) -> Iterator[Finding]:
    for d in _defects(ctx, FL.BCE_LOGITS, (M.SIGMOID,)):
        yield Finding(
            "TL202",
            ctx.module,
            d.node,
            f"`{d.lc.name}` applies sigmoid itself, but {d.phrase}: the loss sees sigmoid(sigmoid(x)), which "
            "stays between 0.5 and 0.73, so predictions can never be confident and gradients nearly vanish. "
            f"Feed raw logits: {d.fix} and apply sigmoid only for predictions.",
            related=d.related,
            fix_builder=fixes.hook(fixes.fix_tl202, d.lc, d.op),
        )


@rule("TL203")
def bce_on_logits(ctx: RuleContext) -> Iterator[Finding]:
    once = _Once()
    for lc, op in _traced(ctx, FL.BCE):
        if op.kind != M.LINEAR:
            continue
        if not once.first(lc.node, lc, op):
            continue
        phrase, related, _ = _describe(lc, op)
        phrase = phrase.replace("already returns", "returns")
        yield Finding(
            "TL203",
            lc.module,
            lc.node,
            f"`{lc.name}` expects probabilities in [0, 1], but {phrase}, raw scores with no sigmoid: "
            "torch raises on values outside [0, 1], or the loss is meaningless and unstable. Use "
            "`nn.BCEWithLogitsLoss` (or `F.binary_cross_entropy_with_logits`) on the raw scores.",
            related=related,
            fix_builder=fixes.hook(fixes.fix_tl203, ctx, lc),
        )


@rule("TL204")
def nll_without_log_softmax(ctx: RuleContext) -> Iterator[Finding]:
    for d in _defects(ctx, FL.NLL, (M.LINEAR, M.SOFTMAX)):
        lc, op, phrase = d.lc, d.op, d.phrase
        if op.kind == M.SOFTMAX:
            what = (
                "probabilities, not log-probabilities: the loss becomes -p[target], which is bounded and "
                "barely penalises confident mistakes, so training crawls. Use `log_softmax` instead of "
                "`softmax`, or `nn.CrossEntropyLoss` on the raw logits."
            )
        else:
            phrase = phrase.replace("already returns", "returns")
            what = (
                "raw scores, not log-probabilities: the loss becomes -score[target], which is unbounded below, "
                "so the model can lower it forever by inflating one score. Apply `F.log_softmax(x, dim=1)` "
                "before `NLLLoss`, or use `nn.CrossEntropyLoss` on the raw scores."
            )
        yield Finding(
            "TL204",
            ctx.module,
            d.node,
            f"`{lc.name}` expects log-probabilities, but {phrase}: {what}",
            related=d.related,
            fix_builder=fixes.hook(fixes.fix_tl204, ctx, lc, op),
        )


@rule("TL205")
def regression_loss_for_classification(ctx: RuleContext) -> Iterator[Finding]:
    labels = FL.LabelTracer(ctx.project, ctx.resolver)
    once = _Once()
    for lc in FL.loss_calls(ctx.module, ctx.resolver):
        if lc.family != FL.REGRESSION or lc.guess or lc.target is None or lc.input is None:
            continue
        if not once.first(lc.node):
            continue
        evidence = labels.evidence(lc.target, lc.scope)
        related: Related = []
        why: Optional[str] = None
        if evidence is not None:
            kind = "one-hot class labels" if evidence.kind == "one_hot" else "integer class ids"
            why = f"the target holds {kind}, built by `{evidence.text()}` ({FL.where(evidence.module, evidence.node)})"
            related.append((evidence.module, evidence.node, f"the class labels are built here ({kind})"))
        else:
            cmp = _accuracy_check(lc)
            if cmp is not None:
                why = f"the same outputs are scored as class predictions (`{FL.snippet(lc.module, cmp)}`)"
                related.append((lc.module, cmp, "accuracy is computed on the same outputs"))
        if why is None:
            continue
        if lc.ctor is not None and lc.ctor_module is not None:
            related.append((lc.ctor_module, lc.ctor, f"the `{lc.name}` is built here"))
        yield Finding(
            "TL205",
            lc.module,
            lc.node,
            f"`{lc.name}` is a regression loss, but {why}: regressing on classes treats them as "
            "ordered numbers (class 2 lies 'between' 1 and 3) and gives weak gradients for confident "
            "mistakes. Use `nn.CrossEntropyLoss` on raw logits (one output per class) with the integer "
            "labels.",
            related=related,
        )


_REDUCERS = frozenset({"argmax", "round", "max"})


def _accuracy_check(lc: LossCall) -> Optional[cst.Comparison]:
    """`(out.argmax(1) == y)` in the loss's scope, on the loss input `out` and target `y`."""
    assert lc.input is not None and lc.target is not None
    mod = lc.module
    out = FL.strip_shape(lc.input, mod)
    target = FL.strip_shape(lc.target, mod)
    if isinstance(target, cst.Call) and mod.qualify(target.func) == "torch.nn.functional.one_hot" and target.args:
        target = FL.strip_shape(target.args[0].value, mod)
    if not isinstance(out, cst.Name) or not isinstance(target, cst.Name):
        return None
    for cmp in FL.equality_comparisons(lc.scope):
        if len(cmp.comparisons) != 1:
            continue
        left, right = cmp.left, cmp.comparisons[0].comparator
        for a, b in ((left, right), (right, left)):
            if _predicted_from(a, out.value, lc) and _is_name(FL.strip_shape(b, mod), target.value):
                return cmp
    return None


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _predicted_from(expr: cst.BaseExpression, name: str, lc: LossCall, hops: int = 0) -> bool:
    """`name.argmax(1)`, `name.round().long()`, `torch.argmax(name, 1)`, `name.max(1)[1]`, or a
    variable bound once to one of those."""
    mod = lc.module
    reduced = False
    e = expr
    while True:
        if isinstance(e, cst.Call):
            qual = mod.qualify(e.func)
            if qual in ("torch.argmax", "torch.round", "torch.max") and e.args:
                reduced, e = True, e.args[0].value
                continue
            func = e.func
            if qual is None and isinstance(func, cst.Attribute):
                attr = func.attr.value
                if attr in _REDUCERS:
                    reduced, e = True, func.value
                    continue
                if attr in FL.SHAPE_METHODS or attr in ("long", "int", "squeeze"):
                    e = func.value
                    continue
            return False
        if isinstance(e, cst.Subscript):
            e = e.value
            continue
        if isinstance(e, cst.Attribute) and e.attr.value == "indices":
            e = e.value
            continue
        if isinstance(e, cst.Name):
            if e.value == name:
                return reduced
            bindings = lc.scope.bindings.get(e.value)
            if hops == 0 and not reduced and bindings is not None and len(bindings) == 1 and bindings[0].index is None:
                return _predicted_from(bindings[0].value, name, lc, hops + 1)
            return False
        return False


# ---------------------------------------------------------------------------- TL206

_SQUASH_WHY = {
    M.RELU: "ReLU zeroes every negative score, so a wrong class can never be pushed below zero and its "
    "gradient is 0 there (units and whole outputs get stuck)",
    M.SIGMOID: "sigmoid squashes each score into (0, 1), so the softmax inside the loss can never become "
    "confident and the gradients fade",
    M.TANH: "tanh squashes each score into (-1, 1), so the softmax inside the loss can never become "
    "confident and the gradients fade",
}


@rule("TL206")
def activation_on_logits(ctx: RuleContext) -> Iterator[Finding]:
    for d in _defects(ctx, FL.CROSS_ENTROPY, tuple(_SQUASH_WHY)):
        phrase = d.phrase.replace("already returns", "returns")
        yield Finding(
            "TL206",
            ctx.module,
            d.node,
            f"`{d.lc.name}` expects unbounded logits, but {phrase}: {_SQUASH_WHY[d.op.kind]}. End the "
            f"classifier with a plain `nn.Linear` ({d.fix}).",
            related=d.related,
        )


# ---------------------------------------------------------------------------- TL207

# qualified name -> position of `dim`
_SOFTMAX_DIM = {
    "torch.nn.functional.softmax": 1,
    "torch.nn.functional.log_softmax": 1,
    "torch.nn.functional.softmin": 1,
    "torch.softmax": 1,
    "torch.log_softmax": 1,
    "torch.nn.Softmax": 0,
    "torch.nn.LogSoftmax": 0,
    "torch.nn.Softmin": 0,
    "torch.nn.modules.activation.Softmax": 0,
    "torch.nn.modules.activation.LogSoftmax": 0,
}


@rule("TL207")
def softmax_without_dim(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            qual = mod.qualify(call.func)
            if qual in _SOFTMAX_DIM:
                position = _SOFTMAX_DIM[qual]
            elif (
                qual is None
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in ("softmax", "log_softmax")
            ):
                if isinstance(call.func.value, cst.Name) and call.func.value.value == "self":
                    continue  # a layer attribute called `softmax`
                position = 0
            else:
                continue
            if _has_dim(call, position):
                continue
            text = FL.snippet(mod, call)
            yield Finding(
                "TL207",
                mod,
                call,
                f"`{text}` has no `dim`: PyTorch then guesses the axis (dim 0 for 0-D, 1-D and 3-D inputs, "
                "dim 1 otherwise), so for a single example or a batch of sequences it normalises across the "
                "batch or the time steps instead of the classes. Pass `dim=` explicitly (usually `dim=-1`).",
                fix_builder=fixes.hook(fixes.fix_tl207, mod, call),
            )


def _has_dim(call: cst.Call, position: int) -> bool:
    positional = 0
    for arg in call.args:
        if arg.star:
            return True  # *args / **kwargs may carry it
        if arg.keyword is not None:
            if arg.keyword.value == "dim":
                return not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
            continue
        if positional == position:
            return not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
        positional += 1
    return False
