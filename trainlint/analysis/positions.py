"""Line/column ranges of syntax nodes, computed only around the nodes that are asked about.

libcst's `PositionProvider` regenerates the code of a whole module to learn where every node
is. A module with a finding needs the positions of a few nodes, so this regenerates only the
innermost statement holding each of them: Python's own parser (in C, about ten times faster
than libcst's) tells on which line that statement starts, the enclosing blocks give its
indentation, and libcst's positioning code generator runs over that statement alone. The
ranges are exactly libcst's (`CodeRange`: lines 1-based, columns 0-based, end exclusive).
Every regenerated statement is compared with the source text; on any disagreement (or when
Python's parser cannot read the file) the module falls back to libcst's whole-module pass.
"""

from __future__ import annotations

import ast
import re
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.walk import children

# libcst counts lines the way its tokenizer does: "\r\n", "\r" or "\n".
_NEWLINE = re.compile(r"\r\n?|\n")
_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
Ranges = Dict[cst.CSTNode, CodeRange]


class ModulePositions:
    """Positions of one module's nodes; statements are positioned when first asked about."""

    def __init__(self, module: ModuleFacts) -> None:
        self.module = module
        self.tree = module.tree
        self._whole: Optional[Ranges] = None  # the fallback: every node of the module
        self._units: Dict[int, Optional[Ranges]] = {}  # id(statement) -> its nodes' ranges
        self._parent: Dict[int, cst.CSTNode] = {}  # id(node) -> parent, per walked statement
        self._walked = 0  # top-level statements whose nodes are in _parent
        self._ast: Optional[List[ast.stmt]] = None
        self._line_offsets: Optional[List[int]] = None

    # public -----------------------------------------------------------------------------

    def of(self, node: cst.CSTNode) -> CodeRange:
        for ranges in self._candidate_ranges(node):
            return ranges[node]
        raise KeyError(node)

    def statement_lines(self, node: cst.CSTNode) -> Tuple[int, int]:
        """First and last line of the innermost statement holding `node`: the statement
        with the fewest lines among those whose lines contain the node's.

        Such a statement is the node's own statement or one of its ancestors. Those inside
        the node's own statement are positioned with it; an ancestor can only win when none
        of them contains the node (a decorator lies outside its function's range), so the
        ancestors are positioned only then. libcst records inner nodes first, so on a tie
        the inner statement wins, as it does over the whole module."""
        pos: Optional[CodeRange] = None
        for ranges in self._candidate_ranges(node):
            pos = ranges[node]
            best: Optional[CodeRange] = None
            for n, r in ranges.items():
                if not isinstance(n, _STATEMENTS):
                    continue
                if r.start.line <= pos.start.line and r.end.line >= pos.end.line:
                    if best is None or (r.end.line - r.start.line) < (best.end.line - best.start.line):
                        best = r
            if best is not None:
                if isinstance(node, cst.BaseCompoundStatement):
                    return best.start.line, best.start.line
                return best.start.line, best.end.line
        if pos is None:
            raise KeyError(node)
        return pos.start.line, pos.end.line

    def toplevel_span(self, stmt: cst.CSTNode) -> Optional[Tuple[int, int]]:
        """Start and end offsets in the text of a top-level statement's code (its leading
        blank and comment lines included), checked against the text; None if unknown."""
        if not any(s is stmt for s in self.tree.body):
            return None
        located = self._locate([self.tree, stmt])
        if located is None:
            return None
        offsets = self._offsets()
        if located[0] < 1 or located[0] > len(offsets):
            return None
        start = offsets[located[0] - 1]
        code = self.tree.code_for_node(stmt)
        if not self.module.text.startswith(code, start):
            return None
        return start, start + len(code)

    # internals --------------------------------------------------------------------------

    def _candidate_ranges(self, node: cst.CSTNode) -> Iterator[Ranges]:
        """Ranges holding `node`: those of its own statement, then of each enclosing one
        (or once, those of the whole module)."""
        if self._whole is None:
            path = self._path_to(node)
            if path is not None:
                units = _unit_indexes(path)
                if units:
                    for unit in units:
                        ranges = self._unit_ranges(path, unit)
                        if ranges is None or node not in ranges:
                            break
                        yield ranges
                        if self._whole is not None:
                            return
                    else:
                        return
        yield self._whole_ranges()

    def _unit_ranges(self, path: List[cst.CSTNode], unit: int) -> Optional[Ranges]:
        key = id(path[unit])
        if key not in self._units:
            self._units[key] = self._position_statement(path[: unit + 1])
        return self._units[key]

    def _whole_ranges(self) -> Ranges:
        if self._whole is None:
            wrapper = MetadataWrapper(self.tree, unsafe_skip_copy=True)
            self._whole = dict(wrapper.resolve(PositionProvider))
            self._units.clear()
        return self._whole

    def _path_to(self, node: cst.CSTNode) -> Optional[List[cst.CSTNode]]:
        """The nodes from the module down to `node`; None for a node the walk does not
        reach (layout nodes such as commas) or one outside the module's statements."""
        key = id(node)
        body = self.tree.body
        while key not in self._parent and self._walked < len(body):
            top = body[self._walked]
            self._walked += 1
            self._parent[id(top)] = self.tree
            stack: List[cst.CSTNode] = [top]
            while stack:
                n = stack.pop()
                for c in children(n):
                    self._parent[id(c)] = n
                    stack.append(c)
        if key not in self._parent:
            return None
        path = [node]
        cur: cst.CSTNode = node
        while cur is not self.tree:
            cur = self._parent[id(cur)]
            path.append(cur)
        path.reverse()
        return path

    def _position_statement(self, path: List[cst.CSTNode]) -> Optional[Ranges]:
        """Ranges of the nodes of `path[-1]`, a statement, from regenerating it alone."""
        located = self._locate(path)
        if located is None:
            self._whole_ranges()
            return None
        line, indents = located
        stmt = path[-1]
        provider = PositionProvider()
        state = PositionProvidingCodegenState(
            default_indent=self.tree.default_indent,
            default_newline=self.tree.default_newline,
            provider=provider,
        )
        state.line = line
        state.indent_tokens = indents
        stmt._codegen(state)
        if not self._matches_source(line, state.tokens):
            self._whole_ranges()
            return None
        return provider._computed  # type: ignore[return-value]

    def _locate(self, path: List[cst.CSTNode]) -> Optional[Tuple[int, List[str]]]:
        """First line of the statement's code (leading blank/comment lines included) and the
        indentation of the blocks around it."""
        if self._ast is None:
            try:
                self._ast = ast.parse(self.module.text).body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return None
        indents: List[str] = []
        stmts: Sequence[cst.CSTNode] = self.tree.body
        nodes: Sequence[ast.stmt] = self._ast
        counterpart: Optional[ast.stmt] = None
        i = 1
        while True:
            target = path[i]
            counterpart = _align(stmts, nodes, target)
            if counterpart is None:
                return None
            if target is path[-1]:
                break
            # Step down into the block of `target` that holds the rest of the path.
            step = path[i + 1 :]
            found = None
            for block, ast_body in _blocks(target, counterpart):
                at = next((k for k, n in enumerate(step) if n is block), None)
                if at is not None:
                    found = (block, ast_body, i + 1 + at)
                    break
            if found is None:
                return None
            block, nodes, at = found
            if type(target) is cst.Match:  # its cases are indented, then their bodies
                indents.append(_indent(self.tree, target.indent))  # type: ignore[attr-defined]
            indents.append(_indent(self.tree, block.indent))
            stmts = block.body
            i = at + 1
        stmt = path[-1]
        line = counterpart.lineno
        decorators: Sequence[cst.Decorator] = getattr(stmt, "decorators", ())
        if decorators:
            deco_list = getattr(counterpart, "decorator_list", None)
            if not deco_list:
                return None
            line = deco_list[0].lineno - len(decorators[0].leading_lines)
        return line - len(stmt.leading_lines), indents  # type: ignore[attr-defined]

    def _matches_source(self, line: int, tokens: List[str]) -> bool:
        offsets = self._offsets()
        if line < 1 or line > len(offsets):
            return False
        text = self.module.text
        start = offsets[line - 1]
        code = "".join(tokens)
        if text.startswith(code, start):
            return True
        # The file's last newline is dropped when the file does not end with one.
        if not self.tree.has_trailing_newline and tokens:
            code = code[: len(code) - len(tokens[-1])]
            return start + len(code) == len(text) and text.startswith(code, start)
        return False

    def _offsets(self) -> List[int]:
        if self._line_offsets is None:
            self._line_offsets = [0] + [m.end() for m in _NEWLINE.finditer(self.module.text)]
        return self._line_offsets


def _indent(tree: cst.Module, indent: Optional[str]) -> str:
    return tree.default_indent if indent is None else indent


def _unit_indexes(path: List[cst.CSTNode]) -> List[int]:
    """Indexes in `path` of the statements holding the node, innermost first (an `elif` is
    positioned with its whole `if`: it does not print alone)."""
    out = []
    for i in range(len(path) - 1, 0, -1):
        n = path[i]
        if type(n) is cst.SimpleStatementLine:
            out.append(i)
        elif isinstance(n, cst.BaseCompoundStatement):
            if type(n) is cst.If and type(path[i - 1]) is cst.If:
                continue
            out.append(i)
    return out


def _align(stmts: Sequence[cst.CSTNode], nodes: Sequence[ast.stmt], target: cst.CSTNode) -> Optional[ast.stmt]:
    """The first of Python's statements that make up `target`, one of `stmts` (a line of
    `a; b` is one libcst statement and several of Python's)."""
    j = 0
    for s in stmts:
        if j >= len(nodes):
            return None
        if s is target:
            return nodes[j]
        j += len(s.body) if type(s) is cst.SimpleStatementLine else 1  # type: ignore[attr-defined]
    return None


def _blocks(stmt: cst.CSTNode, node: ast.stmt) -> List[Tuple[cst.IndentedBlock, List[ast.stmt]]]:
    """The indented blocks of a compound statement, each with Python's statements of it."""
    out: List[Tuple[cst.IndentedBlock, List[ast.stmt]]] = []

    def add(suite: cst.BaseSuite, body: List[ast.stmt]) -> None:
        if type(suite) is cst.IndentedBlock:
            out.append((suite, body))

    t = type(stmt)
    if t is cst.If:
        cur: Optional[cst.CSTNode] = stmt
        a: ast.stmt = node
        while type(cur) is cst.If and isinstance(a, ast.If):
            add(cur.body, a.body)  # type: ignore[union-attr]
            orelse = cur.orelse  # type: ignore[union-attr]
            if type(orelse) is cst.Else:
                add(orelse.body, a.orelse)
                break
            if type(orelse) is cst.If and len(a.orelse) == 1:
                cur, a = orelse, a.orelse[0]
            else:
                break
    elif t in (cst.For, cst.While) and isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        add(stmt.body, node.body)  # type: ignore[attr-defined]
        if stmt.orelse is not None:  # type: ignore[attr-defined]
            add(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
    elif t in (cst.FunctionDef, cst.ClassDef, cst.With) and isinstance(
        node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.AsyncWith)
    ):
        add(stmt.body, node.body)  # type: ignore[attr-defined]
    elif t in (cst.Try, cst.TryStar) and isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        add(stmt.body, node.body)  # type: ignore[attr-defined]
        handlers = stmt.handlers  # type: ignore[attr-defined]
        if len(handlers) == len(node.handlers):  # type: ignore[attr-defined]
            for h, ah in zip(handlers, node.handlers):  # type: ignore[attr-defined]
                add(h.body, ah.body)
        if stmt.orelse is not None:  # type: ignore[attr-defined]
            add(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
        if stmt.finalbody is not None:  # type: ignore[attr-defined]
            add(stmt.finalbody.body, node.finalbody)  # type: ignore[attr-defined]
    elif t is cst.Match and isinstance(node, getattr(ast, "Match", ())):
        cases = stmt.cases  # type: ignore[attr-defined]
        if len(cases) == len(node.cases):  # type: ignore[attr-defined]
            for c, ac in zip(cases, node.cases):  # type: ignore[attr-defined]
                add(c.body, ac.body)
    return out


def positions(module: ModuleFacts) -> ModulePositions:
    """The module's position index (made once per module, kept with its facts)."""
    return module.memo(positions, lambda: ModulePositions(module))
