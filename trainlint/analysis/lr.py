"""What learning rate an optimizer is built with: every value that can reach its `lr` (a
literal, a module constant, a parameter default no call site overrides, the `default=` of an
argparse option), or nothing when any of them is computed at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis.cli_options import declarations_of
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.project import Project

# Where `weight_decay` sits among each torch.optim constructor's positional parameters.
WEIGHT_DECAY_POSITION = {
    "SGD": 4,
    "Adam": 4,
    "AdamW": 4,
    "Adamax": 4,
    "NAdam": 4,
    "RAdam": 4,
    "RMSprop": 4,
    "Adadelta": 4,
    "Adagrad": 3,
}


def torch_optimizer(qual: Optional[str]) -> Optional[str]:
    """`Adam` for `torch.optim.Adam` / `torch.optim.adam.Adam`, when its decay position is known."""
    if not qual or not qual.startswith("torch.optim."):
        return None
    last = qual.rsplit(".", 1)[-1]
    return last if last in WEIGHT_DECAY_POSITION else None


def family(qual: Optional[str]) -> Optional[str]:
    """The optimizer family a resolved constructor belongs to."""
    if not qual:
        return None
    name = qual.rsplit(".", 1)[-1].lower()
    if name.startswith(("adagrad", "adadelta", "adafactor")):
        return "adagrad" if name.startswith("adagrad") else None
    if "adam" in name:
        return "adam"
    if "sgd" in name:
        return "sgd"
    if name.startswith("rmsprop"):
        return "rmsprop"
    return None


@dataclass(frozen=True)
class LrValue:
    value: float
    node: cst.CSTNode
    module: ModuleFacts
    source: str  # "literal" | "constant" | "default" | "argparse"


class _Unknown(Exception):
    """Some value reaching the optimizer is not a compile-time number."""


class LrResolver:
    """The literal values a learning-rate expression can hold, or None when any is unknown."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def values(self, expr: cst.BaseExpression, scope: Scope) -> Optional[List[LrValue]]:
        try:
            return self._values(expr, scope, 0, frozenset())
        except _Unknown:
            return None

    def _values(self, expr: cst.BaseExpression, scope: Scope, depth: int, seen: frozenset) -> List[LrValue]:
        if depth > 12 or (id(expr), id(scope)) in seen:
            raise _Unknown
        seen = seen | {(id(expr), id(scope))}
        n = D.number(expr)
        if n is not None:
            return [LrValue(n, expr, scope.module, "literal")]
        if isinstance(expr, cst.Name):
            return self._name(expr, scope, depth + 1, seen)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, scope, depth + 1, seen)
        if isinstance(expr, cst.Subscript):
            return self._dict_item(expr, scope, depth + 1, seen)
        raise _Unknown

    def _name(self, expr: cst.Name, scope: Scope, depth: int, seen: frozenset) -> List[LrValue]:
        s: Optional[Scope] = scope
        use: cst.CSTNode = expr
        while s is not None:
            defs, open_before = D.scope_index(s).reaching(expr.value, use)
            out: List[LrValue] = []
            for d in defs:
                if d.how != "assign" or d.path:
                    raise _Unknown  # swept in a loop, unpacked, updated...
                vals = self._values(d.value, s, depth, seen)
                out.extend(
                    LrValue(v.value, v.node, v.module, "constant" if v.source == "literal" else v.source) for v in vals
                )
            if not open_before:
                return out
            if expr.value in s.params:
                return out + self._param(expr.value, s, depth, seen)
            if defs:
                raise _Unknown
            use = s.node
            s = s.parent
        return self._imported(expr.value, scope.module, depth, seen)

    def _imported(self, name: str, module: ModuleFacts, depth: int, seen: frozenset) -> List[LrValue]:
        """`from settings import LR`: the constant in the project module that defines it."""
        qual = module.imports.alias.get(name)
        found = D.module_variable(self.project, qual, module) if qual else None
        if found is None:
            raise _Unknown
        out: List[LrValue] = []
        for value, top in found:
            out.extend(
                LrValue(v.value, v.node, v.module, "constant") for v in self._values(value, top, depth + 1, seen)
            )
        return out

    def _param(self, name: str, fn: Scope, depth: int, seen: frozenset) -> List[LrValue]:
        idx = fn.params.index(name)
        default = fn.param_nodes[idx].default
        if fn.cls is not None and fn.simple_name == "__init__":
            sites = self.project.instantiation_sites(fn.cls)
        else:
            sites = self.project.callers(fn)
        out: List[LrValue] = []
        if not sites:
            if default is None:
                raise _Unknown
            vals = self._values(default, fn, depth, seen)
            return [LrValue(v.value, v.node, v.module, "default") for v in vals]
        for caller, call in sites[:16]:
            bound = isinstance(call.func, cst.Attribute) or fn.simple_name == "__init__"
            arg = C.bind_default(call, fn, name, bound)
            if arg is None:
                raise _Unknown
            if arg is default:
                out.extend(
                    LrValue(v.value, v.node, v.module, "default") for v in self._values(default, fn, depth, seen)
                )
            else:
                out.extend(self._values(arg, caller, depth, seen))
        return out

    def _attribute(self, expr: cst.Attribute, scope: Scope, depth: int, seen: frozenset) -> List[LrValue]:
        d = dotted(expr)
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            cls = scope.cls
            s = scope
            while cls is None and s.parent is not None:
                s = s.parent
                cls = s.cls
            if cls is None:
                raise _Unknown
            binds: List[Tuple[D.Def, Scope]] = []
            for method in cls.methods.values():
                for df in D.scope_index(method).defs.get(d, []):
                    binds.append((df, method))
            if not binds:
                raise _Unknown
            out: List[LrValue] = []
            for df, method in binds:
                if df.how != "assign" or df.path:
                    raise _Unknown
                out.extend(self._values(df.value, method, depth, seen))
            return out
        owner = self.project.resolve_callee(expr.value, scope)
        if isinstance(owner, ClassFacts):
            return self._class_constant(owner, expr.attr.value, depth, seen)
        # `args.lr` from argparse
        root = expr.value
        if not isinstance(root, cst.Name):
            raise _Unknown
        if not self._is_parsed_args(root, scope, depth, seen):
            raise _Unknown
        return self._argparse_default(expr.attr.value, scope.module)

    def _class_constant(self, cls: ClassFacts, attr: str, depth: int, seen: frozenset) -> List[LrValue]:
        """`config.lr` for a settings class with `lr = 9e-1` in its body, when no code of the
        project assigns an attribute of that name on another object (`config.lr = args.lr`)."""
        values = [
            small.value
            for stmt in cls.node.body.body
            if isinstance(stmt, cst.SimpleStatementLine)
            for small in stmt.body
            if isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and small.targets[0].target.value == attr
        ]
        pattern = re.compile(rf"(?<!self)\.{re.escape(attr)}\s*=(?!=)|setattr\(")
        if len(values) != 1 or any(pattern.search(m.text) for m in self.project.modules):
            raise _Unknown
        found = self._values(values[0], cls.module.toplevel, depth + 1, seen)
        return [LrValue(v.value, v.node, v.module, "constant") for v in found]

    def _is_parsed_args(self, expr: cst.BaseExpression, scope: Scope, depth: int, seen: frozenset) -> bool:
        """`args` holds `parser.parse_args()` (directly, through a helper or a parameter)."""
        if depth > 12:
            return False
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("parse_args", "parse_known_args"):
                return True
            callee = self.project.resolve_callee(func, scope)
            if isinstance(callee, Scope):
                rets = D.return_values(callee)
                return bool(rets) and all(self._is_parsed_args(r, callee, depth + 1, seen) for r in rets)
            return False
        if isinstance(expr, cst.Name):
            s: Optional[Scope] = scope
            use: cst.CSTNode = expr
            while s is not None:
                defs, open_before = D.scope_index(s).reaching(expr.value, use)
                if defs:
                    return all(
                        d.how == "assign"
                        and (not d.path or d.path == (0,))
                        and self._is_parsed_args(d.value, s, depth + 1, seen)
                        for d in defs
                    )
                if expr.value in s.params:
                    sites = self.project.callers(s)
                    if not sites:
                        return False
                    for caller, call in sites[:8]:
                        arg = C.bind_default(call, s, expr.value, isinstance(call.func, cst.Attribute))
                        if arg is None or not self._is_parsed_args(arg, caller, depth + 1, seen):
                            return False
                    return True
                if not open_before:
                    return False
                use = s.node
                s = s.parent
        return False

    def _argparse_default(self, dest: str, near: ModuleFacts) -> List[LrValue]:
        found: List[LrValue] = []
        for m in [near, *[x for x in self.project.modules if x is not near]]:
            for call in declarations_of(dest, m):
                default = C.arg(call, None, "default", skip_star=True)
                value = D.number(default) if default is not None else None
                if value is None and isinstance(default, cst.SimpleString):
                    try:
                        value = float(str(default.evaluated_value))
                    except ValueError:
                        value = None
                if default is None or value is None:
                    raise _Unknown
                found.append(LrValue(value, default, m, "argparse"))
            if found:
                return found
        raise _Unknown

    def _dict_item(self, expr: cst.Subscript, scope: Scope, depth: int, seen: frozenset) -> List[LrValue]:
        """`config["lr"]` where `config` is a dict literal bound once and never updated."""
        if len(expr.slice) != 1 or not isinstance(expr.value, cst.Name):
            raise _Unknown
        idx = expr.slice[0].slice
        if not isinstance(idx, cst.Index) or not isinstance(idx.value, cst.SimpleString):
            raise _Unknown
        key = idx.value.evaluated_value
        name = expr.value.value
        s: Optional[Scope] = scope
        while s is not None:
            defs = D.scope_index(s).defs.get(name, [])
            if defs:
                break
            s = s.parent
        if s is None or len(defs) != 1 or not isinstance(defs[0].value, cst.Dict) or defs[0].path:
            raise _Unknown
        for call in s.calls:
            if (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value in ("update", "setdefault")
                and dotted(call.func.value) == name
            ):
                raise _Unknown
        for el in defs[0].value.elements:
            if (
                isinstance(el, cst.DictElement)
                and isinstance(el.key, cst.SimpleString)
                and el.key.evaluated_value == key
            ):
                return [LrValue(v.value, v.node, v.module, "constant") for v in self._values(el.value, s, depth, seen)]
        raise _Unknown
