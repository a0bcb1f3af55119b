"""Where a value comes from: the expressions it is built from, followed backwards through
names, `self.` attributes, helper returns and call-site arguments.

Each question asks what the origins are (TL302: is every dataset a `random_split` subset or
random draws? TL208: is every picked probability an entry of a softmax?). The search is
all-or-nothing: when some path cannot be followed (a name bound by a loop, a parameter with no
caller in sight), it gives no origins at all, so a rule never judges part of the story.
"""

from __future__ import annotations

from typing import List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis.facts import Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.project import Project, enclosing_class
from trainlint.analysis.scopes import reaching_outwards
from trainlint.analysis.symbols import return_values

Origin = Tuple[cst.BaseExpression, Scope]

_MAX_DEPTH = 10
_MAX_ORIGINS = 16
_MAX_CALLERS = 8


def value_origins(project: Project, expr: Optional[cst.BaseExpression], scope: Scope) -> List[Origin]:
    """The expressions `expr` is built from (calls the project does not define, attributes,
    literals...), each with its scope; empty if some path is unknown."""
    out: List[Origin] = []
    if expr is None or not _Search(project, out).origins(expr, scope, 0):
        return []
    return out


class _Search:
    def __init__(self, project: Project, out: List[Origin]) -> None:
        self.project = project
        self.out = out
        self.seen: Set[Tuple[int, int]] = set()

    def origins(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> bool:
        if depth > _MAX_DEPTH or len(self.out) > _MAX_ORIGINS:
            return False
        if (id(expr), id(scope)) in self.seen:
            return True
        self.seen.add((id(expr), id(scope)))
        nxt = depth + 1
        if isinstance(expr, cst.Call):
            callee = self.project.resolve_callee(expr.func, scope)
            if isinstance(callee, Scope):
                rets = return_values(callee)
                return bool(rets) and all(self.origins(rv, callee, nxt) for rv in rets)
            self.out.append((expr, scope))
            return True
        if isinstance(expr, cst.Name):
            return self._name(expr, scope, nxt)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, scope, nxt)
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Slice):
            # `dataset[n:]`: a cut by position holds the values it is cut from, in their order
            return self.origins(expr.value, scope, nxt)
        self.out.append((expr, scope))
        return True

    def _name(self, expr: cst.Name, scope: Scope, nxt: int) -> bool:
        """A name: what its reaching assignments bind, or the arguments given for a parameter."""
        for s, defs, open_before in reaching_outwards(scope, expr):
            for d in defs:
                if d.how != "assign":
                    return False
                if d.path:
                    if isinstance(d.value, cst.Call):
                        self.out.append((d.value, s))  # `train, val = random_split(...)`
                        continue
                    if (
                        isinstance(d.value, (cst.Tuple, cst.List))
                        and len(d.path) == 1
                        and d.path[0] < len(d.value.elements)
                    ):
                        if not self.origins(d.value.elements[d.path[0]].value, s, nxt):
                            return False
                        continue
                    return False
                if not self.origins(d.value, s, nxt):
                    return False
            if not open_before:
                return True
            if expr.value in s.params:
                return self._parameter(expr.value, s, nxt)
            if defs:
                return False
        return False

    def _parameter(self, name: str, s: Scope, nxt: int) -> bool:
        """Parameter `name` of `s`: the arguments every call site (or instantiation) gives it."""
        if s.cls is not None and s.simple_name == "__init__":
            sites = self.project.instantiation_sites(s.cls)
        else:
            sites = self.project.callers(s)
        if not sites:
            return False
        for caller, call in sites[:_MAX_CALLERS]:
            arg = C.bind_default(call, s, name, isinstance(call.func, cst.Attribute) or s.simple_name == "__init__")
            if arg is None or not self.origins(arg, caller, nxt):
                return False
        return True

    def _attribute(self, expr: cst.Attribute, scope: Scope, nxt: int) -> bool:
        """`self.x`: what the class assigns to it; any other attribute is an origin itself."""
        key = dotted(expr)
        cls = enclosing_class(scope)
        if key is None or cls is None or not key.startswith("self.") or key.count(".") != 1:
            self.out.append((expr, scope))
            return True
        binds = cls.attrs.get(key, [])
        if not binds:
            return False
        for b in binds:
            if b.how != "assign":
                return False
            value = b.value
            if b.index is not None:
                if isinstance(value, cst.Call):
                    self.out.append((value, b.scope))
                    continue
                if not isinstance(value, (cst.Tuple, cst.List)) or b.index >= len(value.elements):
                    return False
                value = value.elements[b.index].value
            if not self.origins(value, b.scope, nxt):
                return False
        return True
