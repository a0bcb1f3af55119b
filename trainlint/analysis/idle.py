"""Optimizers a function builds and never uses to update anything: every mention of the name
only clears it, reads its state, hands it to a scheduler or to `accelerator.prepare` (which
gives the same object back under the same name). A GAN script whose discriminator branch
computes its loss but never calls `disc_optimizer.step()` (nor its backward) is the shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

import libcst as cst

from trainlint.analysis import kinds as K
from trainlint.analysis.facts import ClassFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.symbols import Resolver
from trainlint.analysis.walk import children, walk

# Reading these off an optimizer updates nothing.
_IDLE_ATTRS = frozenset({"zero_grad", "param_groups", "state_dict", "load_state_dict", "defaults", "state", "scaler"})


@dataclass
class IdleOptimizer:
    name: str
    made: cst.Call  # the construction
    model: Optional[str]  # `discriminator` of `discriminator.parameters()` in its arguments, when written there


def idle_optimizers(scope: Scope, resolver: Resolver) -> List[IdleOptimizer]:
    """The local optimizers of `scope` (a function) that nothing steps or hands on."""
    if not isinstance(scope.node, cst.FunctionDef):
        return []
    out: List[IdleOptimizer] = []
    for name, bindings in scope.bindings.items():
        if "." in name or len(bindings) > 2:
            continue
        made = [b.value for b in bindings if isinstance(b.value, cst.Call) and b.index is None]
        if len(made) != 1:
            continue
        value = resolver.binding_value(next(b for b in bindings if b.value is made[0]))
        kind = value.kind if value is not None else K.guess_kind_from_name(name)  # (`optimizer_class(...)`)
        if kind != K.OPTIMIZER:
            continue
        if all(_idle_use(scope, name, use, parents) for use, parents in _loads(scope.node, name)):
            out.append(IdleOptimizer(name, made[0], _model_of(scope, made[0])))
    return out


def idle_attribute_optimizers(cls: ClassFacts, resolver: Resolver) -> List[IdleOptimizer]:
    """The optimizers a class keeps as `self.<name>` that nothing steps or hands on: every
    mention in the class only clears it, checkpoints it, reads its scaler or prepares it, and
    no other module of the project names the attribute."""
    out: List[IdleOptimizer] = []
    project = resolver.project
    for key, bindings in cls.attrs.items():
        attr = key[5:] if key.startswith("self.") else ""
        if not attr or "." in attr:
            continue
        made = [b for b in bindings if isinstance(b.value, cst.Call) and b.index is None and not _prepared(b.value)]
        if len(made) != 1:
            continue
        value = resolver.binding_value(made[0])
        kind = value.kind if value is not None else K.guess_kind_from_name(attr)
        if kind != K.OPTIMIZER or any(attr in m.text for m in project.modules if m is not cls.module):
            continue
        uses = [u for m in cls.methods.values() for u in _loads(m.node, key)]
        if uses and all(_idle_use(made[0].scope, key, use, parents) for use, parents in uses):
            assert isinstance(made[0].value, cst.Call)
            out.append(IdleOptimizer(key, made[0].value, _model_of(made[0].scope, made[0].value)))
    return out


def _prepared(call: cst.Call) -> bool:
    """`accelerator.prepare(self.opt)`: the same optimizer given back."""
    return (dotted(call.func) or "").endswith(".prepare")


def _loads(root: cst.CSTNode, name: str) -> Iterator[Tuple[Union[cst.Name, cst.Attribute], Tuple[cst.CSTNode, ...]]]:
    """Every mention of `name` (`opt`, or `self.opt`) under `root`, with its ancestors (nearest
    first). Assignment targets come too; `_idle_use` tells them apart."""
    stack: List[Tuple[cst.CSTNode, Tuple[cst.CSTNode, ...]]] = [(root, ())]
    while stack:
        node, parents = stack.pop()
        if isinstance(node, (cst.Name, cst.Attribute)) and dotted(node) == name:
            yield node, parents
            continue
        below = (node, *parents[:3])
        stack.extend((c, below) for c in children(node))


def _idle_use(scope: Scope, name: str, use: Union[cst.Name, cst.Attribute], parents: Tuple[cst.CSTNode, ...]) -> bool:
    parent = parents[0] if parents else None
    if isinstance(parent, cst.FunctionDef) and parent.name is use:
        return False  # (a function of that name: not the local optimizer)
    if isinstance(parent, cst.AssignTarget) or (
        isinstance(parent, cst.Element) and len(parents) > 2 and isinstance(parents[2], cst.AssignTarget)
    ):
        return True  # a target: `opt = ...`, `(model, opt) = accelerator.prepare(...)`
    if isinstance(parent, cst.Attribute) and parent.value is use:
        return parent.attr.value in _IDLE_ATTRS
    if isinstance(parent, cst.Arg) and len(parents) > 1 and isinstance(parents[1], cst.Call):
        call = parents[1]
        func = dotted(call.func) or ""
        if "sched" in func.lower() or K.kind_of_constructor(scope.module.qualify(call.func)) == K.SCHEDULER:
            return True  # a scheduler holds it and only sets its learning rate
        if func.endswith(".prepare"):
            return _rebound_by(call, name, parents)
    return False


def _rebound_by(call: cst.Call, name: str, parents: Tuple[cst.CSTNode, ...]) -> bool:
    """`a, opt = accelerator.prepare(m, opt)` (or `self.opt = accelerator.prepare(self.opt)`):
    the prepared object comes back under `name`."""
    assign = next((p for p in parents if isinstance(p, cst.Assign)), None)
    if assign is None or assign.value is not call:
        return False
    targets = [t.target for t in assign.targets]
    return any(dotted(t) == name for t in targets) or any(
        dotted(e.value) == name for t in targets if isinstance(t, (cst.Tuple, cst.List)) for e in t.elements
    )


def _model_of(scope: Scope, made: cst.Call) -> Optional[str]:
    """`m` of `m.parameters()` in the optimizer's first argument, directly or through the one
    name it is given (`params = filter(..., m.parameters())`)."""
    if not made.args:
        return None
    first: cst.CSTNode = made.args[0].value
    if isinstance(first, cst.Name):
        bound = scope.bindings.get(first.value, [])
        if len(bound) != 1 or bound[0].value is None:
            return None
        first = bound[0].value
    for node in walk(first):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value in ("parameters", "named_parameters") and isinstance(node.func.value, cst.Name):
                return node.func.value.value
    return None
