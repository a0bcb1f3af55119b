"""Helpers shared by the loss rules (TL2xx)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.branches import off_for_every_instance
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.flow import LossCall, Op
from trainlint.analysis.frameworks import lightning_evaluation_hook
from trainlint.analysis.gradmode import no_grad_nodes, scope_disables_grad
from trainlint.rules.base import RuleContext

Related = List[Tuple[ModuleFacts, cst.CSTNode, str]]


_OP_WORDS = {
    M.SOFTMAX: "softmax",
    M.LOG_SOFTMAX: "log_softmax",
    M.SIGMOID: "sigmoid",
    M.TANH: "tanh",
    M.RELU: "ReLU",
    M.LINEAR: "a linear layer",
}


def traced_losses(
    ctx: RuleContext, family: str, behind: Optional[str] = None, inherited: bool = False
) -> Iterator[Tuple[LossCall, Op]]:
    """Loss calls of `family` in this module whose input's last operation is known; with
    `behind` (a log-softmax or a softmax), the operation before that normaliser instead. With
    `inherited`, also the loss calls of base-class methods that this module's models inherit,
    when what feeds them is this module's model (its `forward`, where the defect is reported)."""
    tracer = FL.tracer_for(ctx.project, ctx.resolver)
    calls = FL.loss_calls(ctx.module, ctx.resolver)
    if inherited:
        calls = calls + FL.inherited_loss_calls(ctx.module, ctx.resolver)
    calls = calls + FL.library_loss_calls(ctx.module, ctx.resolver)
    for lc in calls:
        if lc.family != family or lc.guess or lc.input is None:
            continue
        if lc.model is not None:
            op = lc.model.output(ctx.resolver)
        else:
            op = tracer.op(lc.input, lc.scope, lc.receiver) or FL.guarded_op(tracer, lc)
        if op is not None and behind is not None:
            op = _before(op, behind)
        if op is None or op.kind == M.TUPLE:
            continue
        ops = op.elements if op.kind == M.ALTERNATIVES else (op,)  # each model the code may build
        for one in ops:
            if one is not None and (lc.receiver is None or _in_subclass_model(ctx, one)):
                yield lc, one


def _in_subclass_model(ctx: RuleContext, op: Op) -> bool:
    """An inherited loss call is this module's business when its input is a model's output
    made by an operation written here (the subclass's `forward`, or a layer it builds)."""
    return op.owner is not None and op.module is ctx.module


def _before(op: Op, normaliser: str) -> Optional[Op]:
    if op.kind != normaliser or op.input is None or op.input.kind in (M.TUPLE, M.ALTERNATIVES):
        return None
    if op.owner is None:
        return op.input
    # Still the model's output: its `forward` ends with the pair.
    return replace(op.input, owner=op.owner, owner_node=op.owner_node, owner_module=op.owner_module)


def _inline(lc: LossCall, op: Op) -> bool:
    assert lc.input is not None
    return FL.strip_shape(lc.input, lc.module) is op.node


def describe(
    lc: LossCall, op: Op, others: Optional[Related] = None, at: Optional[cst.CSTNode] = None
) -> Tuple[str, Related, str]:
    """(where the operation comes from, related locations, what to change), for messages."""
    related: Related = []
    if op.owner is not None and lc.receiver is not None:
        base = lc.scope.name
        related.append((lc.module, lc.node, f"`{lc.name}` is fed this model's output here, in the inherited `{base}`"))
    elif op.owner is not None and lc.model is not None:
        related.append((lc.module, lc.node, f"this call feeds the model's output to `{lc.name}`"))
    elif op.owner is not None and op.module is lc.module:
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
        if op.applied is not None:
            related.append((op.module, op.node, f"`{text}` is built here"))
            related.append(
                (op.module, op.applied, f"`{FL.snippet(op.module, op.applied)}` applies it in the model's forward")
            )
        else:
            related.append((op.module, op.node, f"`{text}` is applied here, inside the model"))
        fix = f"return the raw scores from `{op.owner}`"
    elif op.named:
        phrase = f"its input is `{text}`, raw scores by their name (the caller is out of sight)"
        fix = "pass the raw scores"
    elif _inline(lc, op):
        phrase = f"its input is `{text}`"
        fix = "pass the raw scores"
    else:
        phrase = f"its input comes from `{text}` ({FL.where(op.module, op.node)})"
        related.append(
            (op.module, op.node, f"`{text}` " + ("gives raw scores here" if op.kind == M.LINEAR else "is applied here"))
        )
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
    and the message parts `describe` makes of them."""

    lc: LossCall
    op: Op
    node: cst.CSTNode
    phrase: str
    related: Related
    fix: str
    # Every loss call that sees it is one nothing trains on (a validation loss): the figure
    # is wrong, the training is not.
    evaluation: bool = False


def defects(
    ctx: RuleContext,
    family: str,
    kinds: Tuple[str, ...],
    behind: Optional[str] = None,
    evaluation: bool = False,
) -> Iterator[_Site]:
    """Each defect once, with the other loss calls of this module fed by the same operation as
    related locations. A model's defect (its last layer, what its `forward` returns) is reported
    at the model's layer when the model is in this module, else at the first loss call that sees
    it; the training, validation and test steps are one defect."""
    once = Once()
    groups: List[Tuple[LossCall, Op, cst.CSTNode, Related]] = []
    by_op: Dict[int, int] = {}  # id(operation node) -> its group
    trained: Set[int] = set()  # groups with a loss call that can be trained on
    for lc, op in traced_losses(ctx, family, behind, inherited=True):
        if op.kind not in kinds or off_for_every_instance(ctx.project, op.module, op.node):
            continue
        if op.owner is not None:
            key = id(op.node)
            if key in by_op:
                others = groups[by_op[key]][3]
                others.append((lc.module, lc.node, f"`{lc.name}` is fed this model's output here too"))
                if not evaluation_only(lc):
                    trained.add(by_op[key])
                continue
            node = op.node if op.module is ctx.module else lc.node
            by_op[key] = len(groups)
            once.first(node, lc, op)
        else:
            node = _node(lc, op)
            if not once.first(node, lc, op):
                continue
        if not evaluation_only(lc):
            trained.add(len(groups))
        groups.append((lc, op, node, []))
    for i, (lc, op, node, others) in enumerate(groups):  # described once every loss call is grouped
        if i not in trained and not evaluation:
            continue  # a validation loss only: a wrong metric, not a model that cannot learn
        phrase, related, fix = describe(lc, op, others, node)
        yield _Site(lc, op, node, phrase, related, fix, evaluation=i not in trained)


def evaluation_only(lc: LossCall) -> bool:
    """A loss computed where nothing trains on it: under `torch.no_grad()` or
    `inference_mode` (a block, or a decorated function), or in a LightningModule's
    validation, test or predict step. A distribution is no loss: one built under `no_grad`
    picks the actions (a rollout), and a wrong one there is as wrong as in training."""
    if lc.distribution:
        return False
    if id(lc.node) in no_grad_nodes(lc.module) or scope_disables_grad(lc.scope):
        return True
    return lightning_evaluation_hook(lc.scope)


class Once:
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
