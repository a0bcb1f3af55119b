"""Branches that never run: the arm of an `if` whose test is a constant, or a flag that
every construction of the class turns off.

A literal test (`if True:`, `if 0:`) or a module-level constant compared with a literal
(`MODEL = "C3D"` ... `if MODEL == "C3D": ... elif MODEL == "R2Plus1D": ...`) decides which arm
runs; the others are dead code, whose definitions and calls say nothing about the program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Set

import libcst as cst

from trainlint.analysis.calls import bind_default
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.scopes import enclosing, in_statements, only_assigned, scope_index, scope_of_node, visible
from trainlint.analysis.walk import children

if TYPE_CHECKING:
    from trainlint.analysis.project import Project


def literal_truth(test: cst.BaseExpression) -> Optional[bool]:
    """The truth of a constant `if` test (`if 1:`, `if True:`, `if 0:`), None otherwise."""
    if isinstance(test, cst.Integer):
        try:
            return int(test.value, 0) != 0
        except ValueError:
            return None
    if isinstance(test, cst.Name) and test.value in ("True", "False"):
        return test.value == "True"
    return None


def constant_test(test: cst.BaseExpression, scope: Scope) -> Optional[bool]:
    """The value of `NAME == "literal"` (or `!=`) when NAME is a module-level name bound once,
    to a literal; else None."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    op, right = test.comparisons[0].operator, test.comparisons[0].comparator
    if not isinstance(op, (cst.Equal, cst.NotEqual)):
        return None
    name, literal = (test.left, right) if isinstance(test.left, cst.Name) else (right, test.left)
    if not isinstance(name, cst.Name) or not isinstance(literal, (cst.SimpleString, cst.Integer)):
        return None
    owner, found = visible(scope, name)
    if owner is None or owner.name != "<module>" or len(found) != 1 or found[0].how != "assign":
        return None
    held = found[0].value
    if found[0].index is not None or not isinstance(held, (cst.SimpleString, cst.Integer)):
        return None
    same = held.evaluated_value == literal.evaluated_value
    return same if isinstance(op, cst.Equal) else not same


def _dead_blocks(scope: Scope) -> Set[int]:
    """Ids of the blocks (as `scopes.Position.blocks` holds them) that a constant `if` never
    runs: the `else` of `if 1:`/`if True:`, the body of `if 0:`/`if False:`, and the arms a
    module constant rules out."""
    cache: Dict[int, Set[int]] = scope.module.memo(_dead_blocks, dict)
    got = cache.get(id(scope))
    if got is not None:
        return got
    out: Set[int] = set()
    root = scope.node
    stack: List[cst.CSTNode] = list(root.body if isinstance(root, cst.Module) else [root.body])
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(node, cst.If):
            truth = literal_truth(node.test)
            if truth is None:
                truth = constant_test(node.test, scope)
            if truth is False:
                out.add(id(node.body))
            elif truth is True and node.orelse is not None:
                out.add(id(node.orelse) if isinstance(node.orelse, cst.If) else id(node.orelse.body))
        if isinstance(
            node, (cst.BaseCompoundStatement, cst.BaseSuite, cst.Else, cst.Finally, cst.ExceptHandler, cst.Module)
        ):
            stack.extend(children(node))
    cache[id(scope)] = out
    return out


def in_dead_code(scope: Scope, node: cst.CSTNode) -> bool:
    """`node` sits in a branch of a constant `if` that never runs."""
    pos = scope_index(scope).position(node)
    if pos is None:
        return False
    dead = _dead_blocks(scope)
    return any(b in dead for b in pos.blocks)


def off_for_every_instance(project: "Project", module: ModuleFacts, node: cst.CSTNode) -> bool:
    """`node` runs only under `if self.flag:` in a method whose class takes `flag` as a
    constructor argument, and every construction in the project passes `False` (a literal,
    or a name only ever assigned `False`): `CombinedLoss(..., sigmoid_predictions=False)` never
    takes the `if self.sigmoid_predictions:` branch of its `forward`."""
    scope = scope_of_node(module, node)
    if scope is None or scope.cls is None:
        return False
    init = scope.cls.methods.get("__init__")
    if init is None:
        return False
    for stmt in enclosing(scope, node):
        if not isinstance(stmt, cst.If) or not isinstance(stmt.body, cst.IndentedBlock):
            continue
        if not in_statements(scope, stmt.body.body, node):
            continue  # (in the `else`)
        test = stmt.test
        if isinstance(test, cst.Attribute) and isinstance(test.value, cst.Name) and test.value.value == "self":
            params = scope.cls.init_params_of(f"self.{test.attr.value}")  # (`self.flag = flag`, once)
            if params is not None and len(params) == 1 and _false_at_every_site(project, scope.cls, init, params[0]):
                return True
    return False


def _false_at_every_site(project: "Project", cls: ClassFacts, init: Scope, param: str) -> bool:
    sites = project.instantiation_sites(cls)
    if not sites or len(sites) > 16:
        return False
    for scope, call in sites:
        arg = bind_default(call, init, param, True)
        if arg is None or not _is_false(arg, scope):
            return False
    return True


def _is_false(expr: cst.BaseExpression, scope: Scope) -> bool:
    return literal_truth(expr) is False or only_assigned(scope, expr, lambda v: literal_truth(v) is False)
