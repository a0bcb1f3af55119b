"""Reaching definitions inside one scope: which assignments of a name may hold where it is
used. Every value-following question (what kind of object, which activation, what learning
rate) asks this index, so each shape of real code (rebinding with `.to(dev)`, a name reused
after training) is taught once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import libcst as cst

from trainlint.analysis.facts import Binding, Scope
from trainlint.analysis.walk import children


@dataclass
class _Index:
    """Pre-order start/end numbers of every node of a scope, and the compound statements
    (if/for/while/try/match) around each node."""

    start: Dict[int, int] = field(default_factory=dict)
    end: Dict[int, int] = field(default_factory=dict)
    # Ids of the compound statements and of the blocks (a body, an `else`) around each node.
    around: Dict[int, Tuple[int, ...]] = field(default_factory=dict)
    loops: Dict[int, bool] = field(default_factory=dict)  # compound id -> is a loop
    compounds: Dict[int, cst.CSTNode] = field(default_factory=dict)
    withs: Dict[int, Tuple[cst.With, ...]] = field(default_factory=dict)  # `with` blocks around a node


_COMPOUND = (cst.If, cst.For, cst.While, cst.Try, cst.ExceptHandler, cst.Match, cst.MatchCase, cst.TryStar, cst.ExceptStarHandler)


_BRANCHES = (cst.IndentedBlock, cst.Else, cst.Finally)
# Exact node types (libcst's classes are ABCs: an exact-type lookup is far cheaper than
# `isinstance`, and this walk runs over every node of every scope that is asked about).
_NESTED = frozenset({cst.FunctionDef, cst.ClassDef})
_COMPOUND_TYPES = frozenset(_COMPOUND)
_BRANCH_TYPES = frozenset(_BRANCHES)
_LOOP_TYPES = frozenset({cst.For, cst.While})


def _build_index(root: cst.CSTNode, index: _Index) -> None:
    counter = 0
    around: List[int] = []
    withs: List[cst.With] = []
    start, end, around_of, withs_of = index.start, index.end, index.around, index.withs
    # (node, leaving?) pairs; children pushed in reverse so they pop in source order
    todo: List[Tuple[cst.CSTNode, bool]] = [(root, False)]
    while todo:
        node, leaving = todo.pop()
        key = id(node)
        if leaving:
            if around and around[-1] == key:
                around.pop()
            if withs and withs[-1] is node:
                withs.pop()
            end[key] = counter
            counter += 1
            continue
        t = type(node)
        if t in _NESTED and node is not root:
            continue
        start[key] = counter
        around_of[key] = tuple(around)
        if withs:
            withs_of[key] = tuple(withs)
        counter += 1
        if t is cst.With:
            withs.append(node)  # type: ignore[arg-type]
        if t in _COMPOUND_TYPES:
            around.append(key)
            index.loops[key] = t in _LOOP_TYPES
            index.compounds[key] = node
        elif t in _BRANCH_TYPES and node is not root:
            around.append(key)  # which branch: an `if` body and its `else` exclude each other
        todo.append((node, True))
        kids = children(node)
        if kids:
            kids.reverse()
            todo.extend((child, False) for child in kids)


def _index(scope: Scope) -> _Index:
    cache = scope.module.cache.setdefault("flow_index", {})
    assert isinstance(cache, dict)
    idx = cache.get(id(scope))
    if idx is None:
        idx = _Index()
        _build_index(scope.node, idx)
        cache[id(scope)] = idx
    return idx  # type: ignore[no-any-return]


def order(scope: Scope, node: cst.CSTNode) -> Optional[int]:
    """Pre-order position of a node in its scope (None when it is not in that scope's body)."""
    return _index(scope).start.get(id(node))


def inside(scope: Scope, outer: cst.CSTNode, node: cst.CSTNode) -> bool:
    idx = _index(scope)
    a, b, n = idx.start.get(id(outer)), idx.end.get(id(outer)), idx.start.get(id(node))
    return a is not None and b is not None and n is not None and a <= n <= b


def enclosing(scope: Scope, node: cst.CSTNode) -> List[cst.CSTNode]:
    """The if/for/while/try/match statements around a node, outermost first."""
    idx = _index(scope)
    return [idx.compounds[c] for c in idx.around.get(id(node), ()) if c in idx.compounds]


def follows(scope: Scope, first: cst.CSTNode, later: cst.CSTNode) -> bool:
    """`later` starts after `first` (and everything inside it) in the scope's body."""
    idx = _index(scope)
    end, start = idx.end.get(id(first)), idx.start.get(id(later))
    return end is not None and start is not None and start > end


def withs_around(scope: Scope, node: cst.CSTNode) -> Tuple[cst.With, ...]:
    """The `with` statements whose body holds a node, outermost first."""
    return _index(scope).withs.get(id(node), ())


def _effect_node(b: Binding) -> cst.CSTNode:
    if b.how in ("for", "with") or b.stmt is None:
        return b.value
    return b.stmt


def reaching(scope: Scope, name: str, use: cst.CSTNode) -> List[Binding]:
    """The bindings of `name` in `scope` that may hold when `use` runs (an over-approximation:
    the last unconditional definition before the use and every conditional one after it, plus
    definitions later in a loop around the use)."""
    bindings = scope.bindings.get(name, [])
    idx = _index(scope)
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
    # ... and, made inside the loop that carries a later one, hides that one too
    return out + [b for b, loops in carried if not (loops and loops[-1] in hiding)]


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
