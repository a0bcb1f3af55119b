"""The fix framework: a fix is changes to syntax nodes, rendered by libcst and stated as the
smallest text edits; `hook` attaches a builder to a finding, `make_fix` turns changes into a
`Fix`, `apply_edits` applies edits to a text. The package's docstring says more."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple, Union

import libcst as cst
from libcst.metadata import CodeRange

from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.positions import positions
from trainlint.analysis.scopes import ends_flow
from trainlint.analysis.walk import children
from trainlint.diagnostics import Edit, Fix

if TYPE_CHECKING:
    pass

SAFE, UNSAFE = "safe", "unsafe"

Locate = Callable[[ModuleFacts, cst.CSTNode], CodeRange]
FixBuilder = Callable[[Locate], Optional[Fix]]
Replacement = Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]
Changes = Dict[cst.CSTNode, Replacement]


def hook(fn: Callable[..., Optional[Fix]], *args: object) -> FixBuilder:
    """A lazy builder for `Finding.fix_builder`: `fn(locate, *args)` runs only when asked."""

    def build(locate: Locate) -> Optional[Fix]:
        return fn(locate, *args)

    return build


def parent_of(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.CSTNode]:
    return module.memo(parent_of, lambda: _parents(module)).get(id(node))


def _parents(module: ModuleFacts) -> Dict[int, cst.CSTNode]:
    built: Dict[int, cst.CSTNode] = {}
    stack: List[cst.CSTNode] = [module.tree]
    while stack:
        n = stack.pop()
        for child in children(n):
            built[id(child)] = n
            stack.append(child)
    return built


# ---------------------------------------------------------------------------- edits


class _Replacer(cst.CSTTransformer):
    def __init__(self, changes: Changes) -> None:
        self.changes = {id(k): v for k, v in changes.items()}

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Replacement:  # type: ignore[override]
        return self.changes.get(id(original_node), updated_node)


_NEWLINE = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> List[int]:
    return [0] + [m.end() for m in _NEWLINE.finditer(text)]


def offset_to_position(starts: List[int], offset: int) -> Tuple[int, int]:
    """1-based (line, column) of a text offset."""
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1, offset - starts[lo] + 1


def position_to_offset(starts: List[int], line: int, column: int) -> int:
    return starts[line - 1] + column - 1


def _toplevel_span(module: ModuleFacts, stmt: cst.CSTNode) -> Optional[Tuple[int, int]]:
    """Where a top-level statement's text (with its leading lines) sits in the source: only
    that statement is regenerated (see `analysis/positions.py`), unless Python's parser
    cannot tell where it starts; then every top-level statement is."""
    span = positions(module).toplevel_span(stmt)
    if span is not None:
        return span
    offsets = _toplevel_offsets(module)
    return offsets.get(id(stmt)) if offsets is not None else None


def _replaced(module: ModuleFacts, top: cst.CSTNode, node: cst.CSTNode, repl: Replacement) -> cst.CSTNode:
    """`top` with `node` replaced. Only the nodes on the path down to `node` are rebuilt
    (libcst's `visit()` would rebuild every node of `top`); a removal or a flattening where
    it is not an element of a sequence is left to `visit()`, which knows those rules."""
    chain: List[cst.CSTNode] = []
    cur = parent_of(module, node)
    while cur is not None and cur is not top:
        chain.append(cur)
        cur = parent_of(module, cur)
    if cur is None:
        return top.visit(_Replacer({node: repl}))  # type: ignore[return-value]
    chain.append(top)
    child: cst.CSTNode = node
    new: Replacement = repl
    for parent in chain:
        rebuilt = _with_child(parent, child, new)
        if rebuilt is None:
            return top.visit(_Replacer({node: repl}))  # type: ignore[return-value]
        child, new = parent, rebuilt
    assert isinstance(new, cst.CSTNode)
    return new


def _with_child(parent: cst.CSTNode, child: cst.CSTNode, new: Replacement) -> Optional[cst.CSTNode]:
    for f in dataclasses.fields(parent):  # type: ignore[arg-type]
        value = getattr(parent, f.name)
        if value is child:
            if not isinstance(new, cst.CSTNode):
                return None
            return parent.with_changes(**{f.name: new})
        if isinstance(value, (list, tuple)) and any(v is child for v in value):
            items: List[cst.CSTNode] = []
            for v in value:
                if v is not child:
                    items.append(v)
                elif isinstance(new, cst.FlattenSentinel):
                    items.extend(new.nodes)
                elif isinstance(new, cst.CSTNode):
                    items.append(new)
                # a RemovalSentinel drops the element
            return parent.with_changes(**{f.name: tuple(items)})
    return None


def _toplevel_offsets(module: ModuleFacts) -> Optional[Dict[int, Tuple[int, int]]]:
    """Where each top-level statement's text (with its leading lines) sits in the source."""
    return module.memo(_toplevel_offsets, lambda: _offsets(module))


def _offsets(module: ModuleFacts) -> Dict[int, Tuple[int, int]]:
    tree = module.tree
    text = module.text
    pos = sum(len(tree.code_for_node(h)) for h in tree.header)
    out: Dict[int, Tuple[int, int]] = {}
    for stmt in tree.body:
        code = tree.code_for_node(stmt)
        if text.startswith(code, pos):
            out[id(stmt)] = (pos, pos + len(code))
        pos += len(code)
    return out


def _render(tree: cst.Module, node: Replacement) -> str:
    if isinstance(node, cst.RemovalSentinel):
        return ""
    if isinstance(node, cst.FlattenSentinel):
        return "".join(tree.code_for_node(n) for n in node.nodes)
    return tree.code_for_node(node)


def _diff_edit(old: str, new: str, base: int, text: str, region_end: int, nl: str) -> Optional[Tuple[int, int, str]]:
    """The smallest (start, end, content) turning `old` (at `base` in `text`) into `new`."""
    if old == new:
        return None
    n = min(len(old), len(new))
    p = 0
    while p < n and old[p] == new[p]:
        p += 1
    s = 0
    while s < n - p and old[len(old) - 1 - s] == new[len(new) - 1 - s]:
        s += 1
    start, end = base + p, base + len(old) - s
    content = new[p : len(new) - s]
    removed = text[start:end]
    # A pure insertion or deletion can slide along text that repeats; prefer line starts, so
    # an inserted statement reads as whole lines (`    x()\n` at column 1).
    if not removed or not content:
        moving = content or removed
        while start > base and text[start - 1] not in "\r\n" and moving and moving[-1] == text[start - 1]:
            moving = text[start - 1] + moving[:-1]
            start -= 1
            end = start + (0 if content else len(moving))
        if content:
            content = moving
        removed = text[start:end]
    else:
        # A replacement is stated as whole lines: `return F.softmax(h, 1)` -> `return h` reads
        # better than the minimal `F.softmax(h, 1` -> `h`, in a diff and in an editor.
        line_start = start
        while line_start > base and text[line_start - 1] not in "\r\n":
            line_start -= 1
        line_end = end
        if not (end > start and text[end - 1] in "\r\n"):
            while line_end < region_end and text[line_end] not in "\r\n":
                line_end += 1
        content = text[line_start:start] + content + text[end:line_end]
        start, end = line_start, line_end
        removed = text[start:end]
    # At the very end of a region, state the edit before the last newline, so that it stays on
    # the region's last line (a notebook cell boundary can follow).
    ends_clean = (removed == "" or removed.endswith(nl)) and content.endswith(nl)
    if end == region_end and ends_clean and start - len(nl) >= base and text[start - len(nl) : start] == nl:
        start, end = start - len(nl), end - len(nl)
        content = nl + content[: -len(nl)]
    return start, end, content


def edits_for(module: ModuleFacts, changes: Changes) -> Optional[List[Edit]]:
    """Text edits for node changes: each change rendered by libcst inside its top-level
    statement (or the whole module), then reduced to the smallest differing span."""
    tree = module.tree
    text = module.text
    nl = tree.default_newline
    toplevel_ids = {id(s): s for s in tree.body}
    spans: List[Tuple[int, int, str]] = []
    for node, repl in changes.items():
        top = node if id(node) in toplevel_ids else _toplevel_of(module, node)
        span = _toplevel_span(module, top) if top is not None else None
        if top is not None and span is not None:
            start, end = span
            old = text[start:end]
            if top is node:
                new = _render(tree, repl)
            else:
                new = tree.code_for_node(_replaced(module, top, node, repl))
        else:
            start, end = 0, len(text)
            old = tree.code
            if old != text:
                return None
            new_tree = tree.visit(_Replacer({node: repl}))
            if not isinstance(new_tree, cst.Module):
                return None
            new = new_tree.code
        piece = _diff_edit(old, new, start, text, end, nl)
        if piece is not None:
            spans.append(piece)
    spans.sort()
    merged: List[Tuple[int, int, str]] = []
    for piece in spans:
        if merged:
            a = merged[-1]
            if piece[0] < a[1] or a[0] == a[1] == piece[0] == piece[1]:
                return None  # overlapping pieces: the change is not expressible as separate edits
            if piece[0] == a[1]:
                merged[-1] = (a[0], piece[1], a[2] + piece[2])
                continue
        merged.append(piece)
    spans = merged
    starts = line_starts(text)
    out: List[Edit] = []
    for start, end, content in spans:
        line, col = offset_to_position(starts, start)
        end_line, end_col = offset_to_position(starts, end)
        out.append(Edit(line, col, end_line, end_col, content, path=module.path))
    return out or None


def _toplevel_of(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.CSTNode]:
    cur: Optional[cst.CSTNode] = node
    while cur is not None:
        parent = parent_of(module, cur)
        if parent is module.tree:
            return cur
        cur = parent
    return None


def make_fix(module: ModuleFacts, changes: Optional[Changes], applicability: str, description: str) -> Optional[Fix]:
    """The fix for `changes`; None when there is none, or when it would edit code that never
    runs (its edit would fix nothing and hide the finding's real place)."""
    if not changes:
        return None
    if any(unreachable(module, node) or _inserts_dead(repl) for node, repl in changes.items()):
        return None
    edits = edits_for(module, changes)
    if not edits:
        return None
    return Fix(applicability, description, edits)


def to_cells(fix: Fix, line_map: Callable[[int], Tuple[Optional[int], int]], text: str) -> Optional[Fix]:
    """A notebook program's fix in cell positions; None when an edit would cross cells."""
    starts = line_starts(text)
    edits: List[Edit] = []
    for e in fix.edits:
        end_line, end_col, content = e.end_line, e.end_column, e.content
        cell, line = line_map(e.line)
        end_cell, cell_end_line = line_map(end_line)
        if end_cell != cell and end_col == 1 and end_line > e.line and content.endswith("\n"):
            # The edit ends with the newline that closes its cell: end it before that newline.
            end_line -= 1
            end_col = starts[end_line] - starts[end_line - 1]
            content = content[:-1]
            end_cell, cell_end_line = line_map(end_line)
        if end_cell != cell:
            return None
        edits.append(Edit(line, e.column, cell_end_line, end_col, content, cell=cell, path=e.path))
    return Fix(fix.applicability, fix.description, edits)


def unreachable(module: ModuleFacts, node: cst.CSTNode) -> bool:
    """`node` sits where the program never gets: a branch of a constant `if` that is never
    taken (`if False:`, the `else` of `if True:`), or after a `return`, `raise`, `break` or
    `continue` of its block."""
    from trainlint.analysis.branches import literal_truth

    child, parent = node, parent_of(module, node)
    while parent is not None:
        if isinstance(parent, cst.If):
            truth = literal_truth(parent.test)
            if (truth is False and child is parent.body) or (truth is True and child is parent.orelse):
                return True
        if isinstance(parent, (cst.IndentedBlock, cst.Module)):
            for stmt in parent.body:
                if stmt is child:
                    break
                if ends_flow(stmt):
                    return True
        child, parent = parent, parent_of(module, parent)
    return False


def _inserts_dead(repl: Replacement) -> bool:
    """Statements inserted after one that ends the block's flow would never run."""
    if not isinstance(repl, cst.FlattenSentinel):
        return False
    return any(ends_flow(stmt) for stmt in list(repl.nodes)[:-1])


# ---------------------------------------------------------------------------- applying edits


@dataclass
class EditError(Exception):
    message: str


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits given in the text's own 1-based positions."""
    starts = line_starts(text)
    spans = []
    for e in edits:
        if not (1 <= e.line <= len(starts) and 1 <= e.end_line <= len(starts)):
            raise EditError(f"edit position {e.line}:{e.column} is outside the file")
        a = position_to_offset(starts, e.line, e.column)
        b = position_to_offset(starts, e.end_line, e.end_column)
        if not 0 <= a <= b <= len(text):
            raise EditError(f"edit span {e.line}:{e.column}-{e.end_line}:{e.end_column} is not a span of the file")
        spans.append((a, b, e.content))
    spans.sort(key=lambda t: (t[0], t[1]))
    out: List[str] = []
    pos = 0
    for a, b, content in spans:
        if a < pos:
            raise EditError("edits overlap")
        out.append(text[pos:a])
        out.append(content)
        pos = b
    out.append(text[pos:])
    return "".join(out)
