"""Edit helpers: find statements around a node, insert, move and replace them (as changes
that `core.make_fix` renders)."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import libcst as cst

from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.walk import children, walk
from trainlint.fixes.core import Changes, Locate, parent_of

if TYPE_CHECKING:
    pass


# ---------------------------------------------------------------------------- tree helpers


def ancestors(module: ModuleFacts, node: cst.CSTNode) -> List[cst.CSTNode]:
    out: List[cst.CSTNode] = []
    cur = parent_of(module, node)
    while cur is not None:
        out.append(cur)
        cur = parent_of(module, cur)
    return out


def statement_line(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.SimpleStatementLine]:
    """The simple statement line holding `node`, if it is an own line of an indented block
    (or of the module), and not inside a lambda, comprehension or nested definition."""
    cur: Optional[cst.CSTNode] = node
    while cur is not None and not isinstance(cur, cst.SimpleStatementLine):
        if isinstance(cur, (cst.Lambda, cst.BaseComp, cst.FunctionDef, cst.ClassDef, cst.SimpleStatementSuite)):
            return None
        cur = parent_of(module, cur)
    if cur is None or not isinstance(parent_of(module, cur), (cst.IndentedBlock, cst.Module)):
        return None
    return cur


def own_statement(module: ModuleFacts, call: cst.Call) -> Optional[cst.SimpleStatementLine]:
    """The line when `call` is the whole statement on it: `opt.zero_grad()` alone, no `;`."""
    line = statement_line(module, call)
    if line is None or len(line.body) != 1:
        return None
    small = line.body[0]
    if isinstance(small, cst.Expr) and small.value is call:
        return line
    return None


def assigned_or_own_statement(
    module: ModuleFacts, call: cst.Call
) -> Optional[Tuple[cst.SimpleStatementLine, Optional[str]]]:
    """Like `own_statement`, but `name = call(...)` is accepted too; gives the bound name."""
    line = own_statement(module, call)
    if line is not None:
        return line, None
    line = statement_line(module, call)
    if line is None or len(line.body) != 1:
        return None
    small = line.body[0]
    if isinstance(small, cst.Assign) and small.value is call and len(small.targets) == 1:
        target = small.targets[0].target
        if isinstance(target, cst.Name):
            return line, target.value
    return None


def block_body(block: cst.CSTNode) -> Sequence[cst.CSTNode]:
    if isinstance(block, (cst.IndentedBlock, cst.Module)):
        return block.body
    return ()


def sibling_in(module: ModuleFacts, node: cst.CSTNode, block: cst.CSTNode) -> Optional[cst.CSTNode]:
    """The statement of `block` that is `node` or holds it."""
    cur: Optional[cst.CSTNode] = node
    while cur is not None:
        parent = parent_of(module, cur)
        if parent is block:
            return cur
        if isinstance(cur, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return None
        cur = parent
    return None


def source_of(module: ModuleFacts, node: cst.CSTNode) -> str:
    return module.tree.code_for_node(node)


def names_in(node: cst.CSTNode) -> List[str]:
    return [n.value for n in walk(node) if isinstance(n, cst.Name)]


def torch_alias(module: ModuleFacts) -> Optional[str]:
    """The local name under which the module imported `torch` itself (`torch`, `T`...)."""
    names = sorted(local for local, full in module.imports.alias.items() if full == "torch")
    return "torch" if "torch" in names else (names[0] if names else None)


def parse_statement(module: ModuleFacts, code: str) -> cst.BaseStatement:
    return cst.parse_statement(code + module.tree.default_newline, config=module.tree.config_for_parsing)


def parse_expression(module: ModuleFacts, code: str) -> cst.BaseExpression:
    return cst.parse_expression(code, config=module.tree.config_for_parsing)


def same_place(a_scope: Scope, a_via: Tuple, b_scope: Scope, b_via: Tuple) -> bool:
    """Two loop events written in the same function, reached through the same calls."""
    if a_scope is not b_scope or len(a_via) != len(b_via):
        return False
    return all(x[1] is y[1] for x, y in zip(a_via, b_via))


def bound_before(locate: Locate, module: ModuleFacts, scope: Scope, name: str, where: cst.CSTNode) -> bool:
    """Whether `name` can be read at `where`: a parameter, a global or outer name, or a local
    bound by a statement that starts earlier in the function."""
    if name in scope.params or name not in scope.bindings:
        return True
    at = locate(module, where).start.line
    for b in scope.bindings[name]:
        node = b.stmt if b.stmt is not None else b.value
        if locate(module, node).start.line < at:
            return True
    return False


# ---------------------------------------------------------------------------- statement changes


def insert_before(stmt: cst.CSTNode, new: cst.BaseStatement) -> Changes:
    return {stmt: cst.FlattenSentinel([new, stmt])}  # type: ignore[list-item]


def insert_after(stmt: cst.CSTNode, new: cst.BaseStatement) -> Changes:
    return {stmt: cst.FlattenSentinel([stmt, new])}  # type: ignore[list-item]


def move(
    module: ModuleFacts,
    stmt: cst.SimpleStatementLine,
    anchor: cst.CSTNode,
    after: bool,
    lead: Optional[cst.BaseStatement] = None,
) -> Optional[Changes]:
    """Move `stmt` just after (or before) `anchor`, a statement of the same block.

    Comments written above `stmt` travel with it; blank lines above it stay where they were,
    so the surrounding layout is not rearranged."""
    block = parent_of(module, stmt)
    if block is None or parent_of(module, anchor) is not block or anchor is stmt:
        return None
    body = list(block_body(block))
    i, j = body.index(stmt), body.index(anchor)
    comments = [ln for ln in stmt.leading_lines if ln.comment is not None]
    blanks = [ln for ln in stmt.leading_lines if ln.comment is None]
    moved: List[cst.CSTNode] = [stmt.with_changes(leading_lines=comments)]
    if lead is not None:
        moved.insert(0, lead)
    changes: Changes = {stmt: cst.RemovalSentinel.REMOVE}
    follower = body[i + 1] if i + 1 < len(body) else None
    anchor_new: cst.CSTNode = anchor
    if i == 0 and isinstance(follower, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        # The follower becomes the block's first statement: no blank line under the header.
        lines = list(follower.leading_lines)
        while lines and lines[0].comment is None:
            lines.pop(0)
        blanks = []
        if len(lines) != len(follower.leading_lines):
            kept0 = follower.with_changes(leading_lines=lines)
            if follower is anchor:
                anchor_new = kept0
            else:
                changes[follower] = kept0
    if blanks and isinstance(follower, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        kept = follower.with_changes(leading_lines=[*blanks, *follower.leading_lines])
        if follower is anchor:
            anchor_new = kept
        else:
            changes[follower] = kept
    if after:
        if j < i:
            return None
        changes[anchor] = cst.FlattenSentinel([anchor_new, *moved])  # type: ignore[list-item]
    else:
        if follower is anchor and not blanks and lead is None:
            return None  # already just before the anchor
        changes[anchor] = cst.FlattenSentinel([*moved, anchor_new])  # type: ignore[list-item]
    return changes


def leaves_early(stmt: cst.CSTNode, in_loop: bool = False) -> bool:
    """Whether the rest of the block can be skipped from `stmt`: a `return` or `raise` in it,
    or a `break` or `continue` outside the loops it holds (nested definitions aside)."""
    if isinstance(stmt, (cst.Return, cst.Raise)):
        return True
    if isinstance(stmt, (cst.Break, cst.Continue)):
        return not in_loop
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    inner = in_loop or isinstance(stmt, (cst.For, cst.While))
    return any(leaves_early(c, inner) for c in children(stmt))
