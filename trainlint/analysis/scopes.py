"""Reaching definitions inside one scope: which assignments of a name may hold where it is
used. Every value-following question (what kind of object, which activation, what learning
rate, where a model's inputs come from) asks this index, so each shape of real code
(rebinding with `.to(dev)`, a name reused after training, `x /= 255`) is taught once.

One walk over a scope's own code (nested defs and classes excluded) records:

- the pre-order start/end number of every node, the compound statements and blocks around
  it and the `with` blocks holding it: `order`, `inside`, `enclosing`, `follows`,
  `withs_around`, and `reaching`/`visible` over the facts' `Binding`s (the resolver's
  question: every binding that may hold, those carried around a loop included);
- the statement order of each statement, name, call and attribute of the body, with the
  conditional blocks and loops around it (`Position`), and every definition of a name there
  (`Def`: assignments, `+=`, `for` and `with` targets, `:=`, each element of a nested tuple
  target): `Index.reaching` answers the data-flow question, the definitions that reach a use
  and whether a value from before them may still show through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import libcst as cst

from trainlint.analysis.facts import Binding, ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.walk import children


@dataclass
class Position:
    """Where a node of a scope's body sits: the number of its statement (the small statements
    of one line share it), and the conditional blocks (an `if` body, an `else`, a loop body, an
    `except`, a `case`) and loops (ids of For/While nodes) around it, outermost first."""

    order: int
    blocks: Tuple[int, ...]
    loops: Tuple[int, ...]


@dataclass(frozen=True)
class Def:
    """One definition of a name: `x = v`, `x += v`, `for x in v`, `with v as x`, `(x := v)`."""

    name: str
    stmt: cst.CSTNode
    order: int
    blocks: Tuple[int, ...]  # conditional blocks around it (if/else, loop bodies, except, case)
    loops: Tuple[int, ...]  # enclosing loops (ids of For/While nodes)
    how: str  # "assign" | "aug" | "for" | "with"
    value: cst.BaseExpression  # the assigned value, the increment, the iterable
    path: Tuple[int, ...] = ()  # element path in a tuple target: `a, (b, c) = v` gives c (1, 1)
    op: Optional[cst.BaseAugOp] = None


@dataclass
class Index:
    """What one walk over a scope records (see the module docstring)."""

    start: Dict[int, int] = field(default_factory=dict)
    end: Dict[int, int] = field(default_factory=dict)
    # Ids of the compound statements and of the blocks (a body, an `else`) around each node.
    around: Dict[int, Tuple[int, ...]] = field(default_factory=dict)
    loops: Dict[int, bool] = field(default_factory=dict)  # compound id -> is a loop
    compounds: Dict[int, cst.CSTNode] = field(default_factory=dict)
    withs: Dict[int, Tuple[cst.With, ...]] = field(default_factory=dict)  # `with` blocks around a node
    # Statements, names, calls and attributes of the body (not a def's parameters or
    # decorators, not a `case` pattern or guard, not an `except ... as` name).
    pos: Dict[int, Position] = field(default_factory=dict)
    defs: Dict[str, List[Def]] = field(default_factory=dict)  # in statement order

    def position(self, node: cst.CSTNode) -> Optional[Position]:
        return self.pos.get(id(node))

    def loops_around(self, node: cst.CSTNode) -> Tuple[int, ...]:
        p = self.pos.get(id(node))
        return p.loops if p else ()

    def reaching(self, name: str, use: cst.CSTNode) -> Tuple[List[Def], bool]:
        """Definitions of `name` that may reach `use`, and whether the name may also hold a
        value from before them (a parameter, an outer name, a use before assignment). Unlike
        `reaching()` over bindings, a definition later in a loop around the use is left out
        unless nothing comes before the use, and `x += v` does not hide earlier definitions."""
        defs = self.defs.get(name, [])
        p = self.pos.get(id(use))
        if not defs:
            return [], True
        if p is None:
            # A use from a nested function: any definition of the enclosing scope may reach it.
            return list(defs), False
        before = [d for d in defs if d.order < p.order]
        if not before:
            # Defined only later: a value carried around a loop, or a use before assignment.
            return list(defs), True
        out: List[Def] = []
        for d in reversed(before):
            if any(later.how != "aug" and _is_prefix(later.blocks, d.blocks) for later in out):
                continue  # overwritten later in its own block (or one around it) before the use
            out.append(d)
            if d.how != "aug" and _is_prefix(d.blocks, p.blocks):
                return out, False
        return out, True


def _is_prefix(a: Tuple[int, ...], b: Tuple[int, ...]) -> bool:
    return len(a) <= len(b) and b[: len(a)] == a


# What the walk does with a node, per exact node type (flags learnt once per type: libcst's
# classes are ABCs, so an exact-type lookup is far cheaper than `isinstance`, and this walk
# runs over every node of every scope that is asked about).
_NESTED = 1  # a def or class: its own scope, not walked
_COMPOUND = 2  # if/for/while/try/except/match/case: recorded in `around`
_BRANCH = 4  # a body, an `else`, a `finally`: recorded in `around`
_LOOP = 8
_WITH = 16
_STATEMENT = 32  # a new statement number
_POSITION = 64  # recorded in `pos`
_DEFINES = 128
_SUITES = 256  # has conditional blocks, or parts outside the body (patterns, `as` names)
_BODY = _STATEMENT | _POSITION | _DEFINES | _SUITES
_OPENS = _WITH | _COMPOUND | _BRANCH  # pushed onto `withs` or `around` until left
_KINDS: Dict[type, int] = {}


def _kind_of(t: type) -> int:
    kind = 0
    if t in (cst.FunctionDef, cst.ClassDef):
        kind |= _NESTED
    if t in (
        cst.If,
        cst.For,
        cst.While,
        cst.Try,
        cst.ExceptHandler,
        cst.Match,
        cst.MatchCase,
        cst.TryStar,
        cst.ExceptStarHandler,
    ):
        kind |= _COMPOUND
    if t in (cst.IndentedBlock, cst.Else, cst.Finally):
        kind |= _BRANCH
    if t in (cst.For, cst.While):
        kind |= _LOOP | _SUITES
    if t is cst.With:
        kind |= _WITH
    if issubclass(t, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        kind |= _STATEMENT
    if issubclass(
        t,
        (cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.SimpleStatementLine, cst.Name, cst.Call, cst.Attribute),
    ):
        kind |= _POSITION
    if issubclass(t, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem, cst.NamedExpr)):
        kind |= _DEFINES
    if t in (cst.If, cst.Else, cst.MatchCase, cst.ExceptHandler, cst.ExceptStarHandler):
        kind |= _SUITES
    _KINDS[t] = kind
    return kind


# How a node is entered or left. Entering: in the body (positions and definitions recorded),
# outside it, as a conditional block (a loop's body also pushes the loop), or as an `except`
# type, which is read before its handler's body although libcst lists it after (it takes the
# position the handler starts at). Leaving undoes what entering pushed.
_IN, _OUT, _BLOCK, _LOOP_BODY, _PINNED = 0, 1, 2, 3, 4
_LEAVE, _LEAVE_BLOCK, _LEAVE_LOOP_BODY, _LEAVE_PINNED = 5, 6, 7, 8


class _BodyCursor:
    """Statement numbering of the body, and the conditional blocks and loops open at this point."""

    __slots__ = ("order", "blocks", "loops", "here", "loop_of", "pinned")

    def __init__(self) -> None:
        self.order = 0
        self.blocks: List[int] = []
        self.loops: List[int] = []
        self.here: Optional[Position] = None  # shared by the nodes of one statement
        self.loop_of: Dict[int, int] = {}  # loop body id -> loop id
        self.pinned: Dict[int, Position] = {}  # `except` type id -> where its handler starts

    def enter(self, key: int, mode: int) -> int:
        """Entering a conditional block, a loop body or a pinned `except` type: how to leave it."""
        if mode == _PINNED:
            self.here = self.pinned.pop(key)
            return _LEAVE_PINNED
        self.blocks.append(key)
        self.here = None
        if mode == _LOOP_BODY:
            self.loops.append(self.loop_of.pop(key))
            return _LEAVE_LOOP_BODY
        return _LEAVE_BLOCK

    def leave(self, mode: int) -> None:
        """Undoing what `enter` pushed."""
        if mode == _LEAVE_LOOP_BODY:
            self.loops.pop()
        if mode != _LEAVE_PINNED:
            self.blocks.pop()
        self.here = None

    def record(self, node: cst.CSTNode, t: type, key: int, kind: int, index: Index) -> Optional[Dict[int, int]]:
        """A node of the body: its statement number, position and definitions; how its
        children are entered where it has conditional blocks."""
        if kind & _STATEMENT:
            self.order += 1
            self.here = None
        if kind & _POSITION:
            if self.here is None:
                self.here = Position(self.order, tuple(self.blocks), tuple(self.loops))
            index.pos[key] = self.here
        if kind & _DEFINES:
            if self.here is None:
                self.here = Position(self.order, tuple(self.blocks), tuple(self.loops))
            _define_from(node, self.here, index.defs)
        if not kind & _SUITES:
            return None
        special = _suites(node, key, self.loop_of)
        if t is cst.ExceptHandler or t is cst.ExceptStarHandler:
            handler_type = node.type  # type: ignore[attr-defined]
            if handler_type is not None:
                self.pinned[id(handler_type)] = Position(self.order, tuple(self.blocks), tuple(self.loops))
        return special


def _build_index(root: cst.CSTNode, index: Index) -> None:
    counter = 0
    around: List[int] = []
    withs: List[cst.With] = []
    # The same as tuples, rebuilt only when they change (shared by the nodes in between).
    around_t: Tuple[int, ...] = ()
    withs_t: Tuple[cst.With, ...] = ()
    start, end, around_of, withs_of = index.start, index.end, index.around, index.withs
    body = _BodyCursor()
    # (node, mode) pairs; children pushed in reverse so they pop in source order
    todo: List[Tuple[cst.CSTNode, int]] = [(root, _OUT)]
    while todo:
        node, mode = todo.pop()
        key = id(node)
        if mode >= _LEAVE:
            if around and around[-1] == key:
                around.pop()
                around_t = tuple(around)
            if withs and withs[-1] is node:
                withs.pop()
                withs_t = tuple(withs)
            end[key] = counter
            counter += 1
            if mode != _LEAVE:
                body.leave(mode)
            continue
        t = type(node)
        kind = _KINDS.get(t)
        if kind is None:
            kind = _kind_of(t)
        if kind & _NESTED and node is not root:
            continue
        start[key] = counter
        around_of[key] = around_t
        if withs_t:
            withs_of[key] = withs_t
        counter += 1
        if kind & _WITH:
            withs.append(node)  # type: ignore[arg-type]
            withs_t = tuple(withs)
        if kind & _COMPOUND:
            around.append(key)
            around_t = tuple(around)
            index.loops[key] = bool(kind & _LOOP)
            index.compounds[key] = node
        elif kind & _BRANCH and node is not root:
            around.append(key)  # which branch: an `if` body and its `else` exclude each other
            around_t = tuple(around)
        leave = _LEAVE
        special: Optional[Dict[int, int]] = None  # child id -> how it is entered
        if mode != _OUT:
            if mode != _IN:
                leave = body.enter(key, mode)
            if kind & _BODY:
                special = body.record(node, t, key, kind, index)
        elif node is root and t is cst.FunctionDef:
            special = {id(node.body): _IN}  # type: ignore[attr-defined]
        elif node is root:
            mode = _IN  # a module's statements
        kids = children(node)
        if not kids and leave == _LEAVE and not kind & _OPENS:
            end[key] = counter  # a leaf: left at once (most nodes are)
            counter += 1
            continue
        todo.append((node, leave))
        if kids:
            kids.reverse()
            inner = _OUT if mode == _OUT else _IN
            if special is None:
                todo.extend(zip(kids, repeat(inner)))
            else:
                todo.extend((child, special.get(id(child), inner)) for child in kids)


def _suites(node: cst.CSTNode, key: int, loop_of: Dict[int, int]) -> Dict[int, int]:
    """How the children of a statement with conditional blocks are entered."""
    if isinstance(node, (cst.For, cst.While)):
        loop_of[id(node.body)] = key
        return {id(node.body): _LOOP_BODY}
    if isinstance(node, cst.If):
        # an `elif` is a block of its own, around its test and its body
        return (
            {id(node.body): _BLOCK, id(node.orelse): _BLOCK}
            if isinstance(node.orelse, cst.If)
            else {id(node.body): _BLOCK}
        )
    if isinstance(node, cst.Else):
        return {id(node.body): _BLOCK}  # of an if, a loop (no loop around it: it runs once) or a try
    if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
        out = {id(node.body): _BLOCK}
        if node.type is not None:
            out[id(node.type)] = _PINNED
        if node.name is not None:
            out[id(node.name)] = _OUT
        return out
    if isinstance(node, cst.MatchCase):
        out = {id(node.body): _BLOCK, id(node.pattern): _OUT}
        if node.guard is not None:
            out[id(node.guard)] = _OUT
        return out
    return {}


def _define_from(node: cst.CSTNode, here: Position, defs: Dict[str, List[Def]]) -> None:
    if isinstance(node, cst.Assign):
        for t in node.targets:
            _define(t.target, node.value, "assign", node, here, defs)
    elif isinstance(node, cst.AnnAssign):
        if node.value is not None:
            _define(node.target, node.value, "assign", node, here, defs)
    elif isinstance(node, cst.AugAssign):
        _define(node.target, node.value, "aug", node, here, defs, op=node.operator)
    elif isinstance(node, cst.For):
        _define(node.target, node.iter, "for", node, here, defs)
    elif isinstance(node, cst.WithItem):
        if node.asname is not None:
            _define(node.asname.name, node.item, "with", node, here, defs)
    elif isinstance(node, cst.NamedExpr):
        _define(node.target, node.value, "assign", node, here, defs)


def _define(
    target: cst.BaseExpression,
    value: cst.BaseExpression,
    how: str,
    stmt: cst.CSTNode,
    here: Position,
    defs: Dict[str, List[Def]],
    path: Tuple[int, ...] = (),
    op: Optional[cst.BaseAugOp] = None,
) -> None:
    if isinstance(target, (cst.Tuple, cst.List)):
        for i, el in enumerate(target.elements):
            if isinstance(el, cst.StarredElement):
                continue
            _define(el.value, value, how, stmt, here, defs, path + (i,), op)
        return
    key = _def_key(target)
    if key is not None:
        defs.setdefault(key, []).append(Def(key, stmt, here.order, here.blocks, here.loops, how, value, path, op))


def _def_key(target: cst.BaseExpression) -> Optional[str]:
    if isinstance(target, cst.Name):
        return target.value
    d = dotted(target)
    if d is not None and d.startswith("self.") and d.count(".") == 1:
        return d
    return None


def scope_index(scope: Scope) -> Index:
    """The index of a scope, built on first use and kept with its module's facts."""
    # (kept with the module's facts; the engine may drop them to save memory)
    cache: Dict[int, Index] = scope.module.memo(scope_index, dict)
    idx = cache.get(id(scope))
    if idx is None:
        idx = Index()
        _build_index(scope.node, idx)
        cache[id(scope)] = idx
    return idx  # type: ignore[no-any-return]


def scope_of_node(module: ModuleFacts, node: cst.CSTNode) -> Optional[Scope]:
    """The innermost scope whose body holds `node` (a statement, name, call or attribute)."""
    for scope in reversed(module.scopes):
        if scope_index(scope).position(node) is not None:
            return scope
    return None


def order(scope: Scope, node: cst.CSTNode) -> Optional[int]:
    """Pre-order position of a node in its scope (None when it is not in that scope's body)."""
    return scope_index(scope).start.get(id(node))


def inside(scope: Scope, outer: cst.CSTNode, node: cst.CSTNode) -> bool:
    idx = scope_index(scope)
    a, b, n = idx.start.get(id(outer)), idx.end.get(id(outer)), idx.start.get(id(node))
    return a is not None and b is not None and n is not None and a <= n <= b


def blocks(compound: cst.CSTNode) -> List[cst.BaseSuite]:
    """The suites of an if/for/while/try/match statement (an `elif` is an `If` of its own)."""
    out: List[cst.BaseSuite] = []
    for name in ("body", "orelse", "finalbody"):
        part = getattr(compound, name, None)
        if isinstance(part, cst.BaseSuite):
            out.append(part)
        elif isinstance(part, (cst.Else, cst.Finally)):
            out.append(part.body)
    out += [h.body for h in getattr(compound, "handlers", ())]
    out += [c.body for c in getattr(compound, "cases", ())]
    return out


def ends_flow(stmt: cst.CSTNode) -> bool:
    """A statement line that ends its block's flow: `return`, `raise`, `break` or `continue`."""
    return isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(s, (cst.Return, cst.Raise, cst.Break, cst.Continue)) for s in stmt.body
    )


def leaves_iteration(scope: Scope, node: cst.CSTNode, loop: cst.CSTNode) -> bool:
    """A block around `node` inside `loop` ends with `break`, `continue`, `return` or `raise`
    (`except StopIteration: opt.step(); break`): once `node` has run, nothing that follows
    that block runs in the same iteration."""
    chain = enclosing(scope, node)
    ids = [id(c) for c in chain]
    if id(loop) not in ids:
        return False
    for compound in chain[ids.index(id(loop)) + 1 :]:
        for block in blocks(compound):
            body = block.body if isinstance(block, cst.IndentedBlock) else ()
            if body and in_statements(scope, body, node) and ends_flow(body[-1]):
                return True
    return False


def in_statements(scope: Scope, body: Sequence[cst.BaseStatement], node: cst.CSTNode) -> bool:
    """`node` lies within the statements `body` (a block's, in `scope`)."""
    idx = scope_index(scope)
    a, b, n = idx.start.get(id(body[0])), idx.end.get(id(body[-1])), idx.start.get(id(node))
    return a is not None and b is not None and n is not None and a <= n <= b


def enclosing(scope: Scope, node: cst.CSTNode) -> List[cst.CSTNode]:
    """The if/for/while/try/match statements around a node, outermost first."""
    idx = scope_index(scope)
    return [idx.compounds[c] for c in idx.around.get(id(node), ()) if c in idx.compounds]


def follows(scope: Scope, first: cst.CSTNode, later: cst.CSTNode) -> bool:
    """`later` starts after `first` (and everything inside it) in the scope's body."""
    idx = scope_index(scope)
    end, start = idx.end.get(id(first)), idx.start.get(id(later))
    return end is not None and start is not None and start > end


def withs_around(scope: Scope, node: cst.CSTNode) -> Tuple[cst.With, ...]:
    """The `with` statements whose body holds a node, outermost first."""
    return scope_index(scope).withs.get(id(node), ())


def _effect_node(b: Binding) -> cst.CSTNode:
    if b.how in ("for", "with") or b.stmt is None:
        return b.value
    return b.stmt


def reaching(scope: Scope, name: str, use: cst.CSTNode) -> List[Binding]:
    """The bindings of `name` in `scope` that may hold when `use` runs (an over-approximation:
    the last unconditional definition before the use and every conditional one after it, plus
    definitions later in a loop around the use)."""
    bindings = scope.bindings.get(name, [])
    idx = scope_index(scope)
    u = idx.start.get(id(use))
    if u is None:
        return list(bindings)
    use_around = set(idx.around.get(id(use), ()))
    before: List[Tuple[int, Binding, Tuple[int, ...]]] = []
    carried: List[Tuple[Binding, Tuple[int, ...]]] = []
    for b in bindings:
        eff = _effect_node(b)
        end = idx.end.get(id(eff))
        around = idx.around.get(id(eff), ())
        if end is None:
            carried.append((b, ()))
        elif end < u:
            before.append((end, b, around))
        elif any(idx.loops.get(a) for a in around if a in use_around):
            # defined later in a loop that also holds the use: it reaches the next iteration
            carried.append((b, tuple(a for a in around if a in use_around and idx.loops.get(a))))
    before.sort(key=lambda t: t[0])
    out: List[Binding] = []
    kept: List[Tuple[int, ...]] = []
    hiding: Tuple[int, ...] = ()
    for _, b, around in reversed(before):
        if any(set(later) <= set(around) for later in kept):
            continue  # overwritten later in its own block (or one around it) before the use
        out.append(b)
        kept.append(around)
        if set(around) <= use_around:
            hiding = around
            break  # an unconditional definition hides the earlier ones
        outer = _both_arms_define(idx, around, kept)
        if outer is not None and set(outer) <= use_around:
            hiding = outer
            break  # so does one made in both arms of an `if`/`else`
    # ... and, made inside the loop that carries a later one, hides that one too
    return out + [b for b, loops in carried if not (loops and loops[-1] in hiding)]


def _both_arms_define(idx: Index, around: Tuple[int, ...], kept: List[Tuple[int, ...]]) -> Optional[Tuple[int, ...]]:
    """When `around` lies directly in an arm of an `if` with a plain `else`, and definitions
    kept so far lie directly in both of its arms: what is around that `if`."""
    at = max((i for i, a in enumerate(around) if a in idx.compounds), default=None)
    node = idx.compounds.get(around[at]) if at is not None else None
    if at is None or not isinstance(node, cst.If) or not isinstance(node.orelse, cst.Else) or at + 1 >= len(around):
        return None
    prefix = around[: at + 1]
    arms = {
        k[at + 1]
        for k in kept
        if len(k) > at + 1 and k[: at + 1] == prefix and not set(k[at + 1 :]) & idx.compounds.keys()
    }
    return around[:at] if len(arms) == 2 else None


def reaching_outwards(scope: Scope, use: cst.Name) -> Iterator[Tuple[Scope, List[Def], bool]]:
    """The definitions of a name that may reach `use`, scope by scope outwards: (scope, its
    reaching definitions, whether an earlier value may still show through). It moves to the
    enclosing scope only while nothing there defines the name: no definition, no parameter."""
    s: Optional[Scope] = scope
    node: cst.CSTNode = use
    while s is not None:
        defs, open_before = scope_index(s).reaching(use.value, node)
        yield s, defs, open_before
        if not open_before or defs or use.value in s.params:
            return
        node, s = s.node, s.parent


def visible(scope: Scope, use: cst.Name) -> Tuple[Optional[Scope], List[Binding]]:
    """Where the name `use` is bound, seen from `scope`: the scope that binds it (a parameter
    counts, with no bindings) and its bindings that may hold there. In the scope of the use,
    only the definitions that reach it count; an enclosing scope's code may run before or
    after the call, so all of its definitions do."""
    name = use.value
    s: Optional[Scope] = scope
    while s is not None:
        if name in s.bindings:
            binds = s.bindings[name]
            if len(binds) == 1 and name not in s.params:
                return s, list(binds)  # one definition: nothing to choose (no index needed)
            found = reaching(s, name, use) if s is scope else list(binds)
            if found:
                return s, found
            if name not in s.params:
                return s, list(binds)  # used before any definition: take them all
        if name in s.params:
            return s, []
        s = s.parent
    return None, []


def only_assigned(scope: Scope, expr: cst.BaseExpression, test: Callable[[cst.BaseExpression], bool]) -> bool:
    """`expr` is a name whose every binding in sight is a plain assignment of a value that
    passes `test` (`shuffle = False` among a script's settings)."""
    if not isinstance(expr, cst.Name):
        return False
    _, found = visible(scope, expr)
    return bool(found) and all(b.how == "assign" and b.index is None and test(b.value) for b in found)


def return_values(fn: Scope) -> List[cst.BaseExpression]:
    """The values of `fn`'s own return statements (not those of nested defs)."""
    cache: Dict[int, List[cst.BaseExpression]] = fn.module.memo(return_values, dict)
    if id(fn) in cache:
        return cache[id(fn)]
    out: List[cst.BaseExpression] = []
    stack: List[cst.CSTNode] = list(fn.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(n, cst.Return):
            if n.value is not None:
                out.append(n.value)
            continue
        if isinstance(n, cst.BaseExpression):
            continue  # returns live in statements only
        stack.extend(children(n))
    cache[id(fn)] = out
    return out
