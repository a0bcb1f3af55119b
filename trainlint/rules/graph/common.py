"""Helpers shared by the graph rules (TL6xx)."""

from __future__ import annotations

from typing import List, Sequence

import libcst as cst

from trainlint.analysis.autograd import GraphEval, evaluator
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.walk import walk
from trainlint.rules.base import RuleContext


def compact_code(module: ModuleFacts, node: cst.CSTNode) -> str:
    return " ".join(module.tree.code_for_node(node).split())


def evaluator_for(ctx: RuleContext) -> GraphEval:
    return evaluator(ctx.project, ctx.resolver)


def grad_owners(node: cst.CSTNode, module: ModuleFacts) -> List[str]:
    """Source text of X for every `X.grad` read in an update."""
    values: Sequence[cst.CSTNode]
    if isinstance(node, (cst.Assign, cst.AugAssign)):
        values = [node.value]
    elif isinstance(node, cst.Call):
        values = [a.value for a in node.args]
    else:
        values = []
    return [
        compact_code(module, n.value)
        for v in values
        for n in walk(v)
        if isinstance(n, cst.Attribute) and n.attr.value == "grad"
    ]


def is_data_or_grad(target: cst.BaseExpression) -> bool:
    node: cst.BaseExpression = target
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Attribute) and node.attr.value in ("data", "grad"):
            return True
        node = node.value
    return False
