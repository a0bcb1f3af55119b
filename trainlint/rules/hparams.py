"""TL5xx: hyperparameters (the learning rate of a resolved optimizer).

A learning rate is judged only when every value that can reach the optimizer is known: a
literal, a module constant, a parameter default no call site overrides, or the `default=`
of an argparse option. A value computed at run time, read from a config file or swept in a
loop is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.options import declare
from trainlint.rules import Finding, RuleContext, rule

# Ranges around each family's documented default (see rules/TL501-learning-rate-out-of-range.md).
declare(
    "TL501",
    adam_min=1e-6,
    adam_max=1e-2,
    sgd_min=1e-5,
    sgd_max=1.0,
    rmsprop_min=1e-6,
    rmsprop_max=1e-1,
    adagrad_min=1e-5,
    adagrad_max=1.0,
)

_FAMILY_TEXT = {"adam": "Adam-family", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
_TYPICAL = {"adam": "1e-3 or 3e-4", "sgd": "0.1 to 0.01 (with momentum)", "rmsprop": "1e-3", "adagrad": "1e-2"}
# Schedulers that replace or multiply the optimizer's lr by their own values, so the
# constructor's lr is not the rate that is used (Noam-style LambdaLR, OneCycleLR, CyclicLR).
_LR_OVERRIDING = {"LambdaLR", "MultiplicativeLR", "OneCycleLR", "CyclicLR"}
# `group["lr"] = ...` sets the rate by hand (warm-up, custom schedules); `*=` only decays it.
_RANGE_TEST = re.compile(r"\bLRFinder\b|\blr_find(?:er)?\b|\.range_test\(")
_MANUAL_LR = re.compile(r"""\[\s*['"]lr['"]\s*\]\s*=(?!=)""")


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
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.project = ctx.project

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
                out.extend(LrValue(v.value, v.node, v.module, "constant" if v.source == "literal" else v.source) for v in vals)
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
        if not qual or "." not in qual:
            raise _Unknown
        mod_name, attr = qual.rsplit(".", 1)
        other = self.project.find_module(mod_name, module)
        if other is None:
            raise _Unknown
        defs = D.scope_index(other.toplevel).defs.get(attr, [])
        if not defs or any(d.how != "assign" or d.path for d in defs):
            raise _Unknown
        out: List[LrValue] = []
        for d in defs:
            out.extend(LrValue(v.value, v.node, v.module, "constant") for v in self._values(d.value, other.toplevel, depth + 1, seen))
        return out

    def _param(self, name: str, fn: Scope, depth: int, seen: frozenset) -> List[LrValue]:
        idx = fn.params.index(name)
        default = fn.param_nodes[idx].default
        if fn.cls is not None and fn.simple_name == "__init__":
            sites = D.instantiation_sites(self.project, fn.cls)
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
            arg = D.argument_for_param(call, fn, name, bound)
            if arg is None:
                raise _Unknown
            if arg is default:
                out.extend(LrValue(v.value, v.node, v.module, "default") for v in self._values(default, fn, depth, seen))
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
        # `args.lr` from argparse
        root = expr.value
        if not isinstance(root, cst.Name):
            raise _Unknown
        if not self._is_parsed_args(root, scope, depth, seen):
            raise _Unknown
        return self._argparse_default(expr.attr.value, scope.module)

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
                        d.how == "assign" and (not d.path or d.path == (0,)) and self._is_parsed_args(d.value, s, depth + 1, seen)
                        for d in defs
                    )
                if expr.value in s.params:
                    sites = self.project.callers(s)
                    if not sites:
                        return False
                    for caller, call in sites[:8]:
                        arg = D.argument_for_param(call, s, expr.value, isinstance(call.func, cst.Attribute))
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
            for scope in m.scopes:
                for call in scope.calls:
                    if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"):
                        continue
                    if _dest_of(call) != dest:
                        continue
                    default = D.call_arg(call, None, "default")
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
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("update", "setdefault") and dotted(call.func.value) == name:
                raise _Unknown
        for el in defs[0].value.elements:
            if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString) and el.key.evaluated_value == key:
                return [LrValue(v.value, v.node, v.module, "constant") for v in self._values(el.value, s, depth, seen)]
        raise _Unknown


def _dest_of(call: cst.Call) -> Optional[str]:
    dest = D.call_arg(call, None, "dest")
    if isinstance(dest, cst.SimpleString):
        v = dest.evaluated_value
        return v if isinstance(v, str) else None
    names = [a.value.evaluated_value for a in call.args if a.keyword is None and isinstance(a.value, cst.SimpleString)]
    strs = [n for n in names if isinstance(n, str)]
    longs = [n for n in strs if n.startswith("--")]
    pick = longs[0] if longs else (strs[0] if strs else None)
    if pick is None:
        return None
    return pick.lstrip("-").replace("-", "_")


def _schedulers_of(ctx: RuleContext) -> Dict[int, Set[str]]:
    """Optimizer construction (id) -> names of the schedulers built on it."""
    cached = ctx.project.__dict__.get("_tl_lr_scheds")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out: Dict[int, Set[str]] = {}
    for m in ctx.project.modules:
        for scope in m.scopes:
            for call in scope.calls:
                qual = m.qualify(call.func)
                if K.kind_of_constructor(qual) != K.SCHEDULER:
                    continue
                opt = D.call_arg(call, 0, "optimizer")
                if opt is None:
                    continue
                for origin in _optimizer_origins(ctx, opt, scope, 0):
                    out.setdefault(id(origin), set()).add(D.last_name(qual))
    ctx.project.__dict__["_tl_lr_scheds"] = out
    return out


def _optimizer_origins(ctx: RuleContext, expr: cst.BaseExpression, scope: Scope, depth: int) -> List[cst.CSTNode]:
    """The optimizer constructions a scheduler's argument may be, as of the scheduler's line."""
    if depth > 6:
        return []
    if isinstance(expr, cst.Call):
        if K.kind_of_constructor(scope.module.qualify(expr.func)) == K.OPTIMIZER:
            return [expr]
    if isinstance(expr, cst.Name):
        defs, _ = D.scope_index(scope).reaching(expr.value, expr)
        out: List[cst.CSTNode] = []
        for d in defs:
            value = d.value
            if d.how == "assign" and d.path and isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "prepare":
                i = d.path[0]
                if i < len(value.args):
                    out += _optimizer_origins(ctx, value.args[i].value, scope, depth + 1)
            elif d.how == "assign" and not d.path:
                out += _optimizer_origins(ctx, value, scope, depth + 1)
        if out:
            return out
    v = ctx.resolver.value_of(expr, scope)
    return [v.origin] if v is not None and v.origin is not None else []


def _findings(ctx: RuleContext) -> List[Finding]:
    cached = ctx.project.__dict__.get("_tl_lr_findings")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    opts = ctx.options
    resolver = LrResolver(ctx)
    scheds = _schedulers_of(ctx)
    out: List[Finding] = []
    reported: Set[int] = set()
    for m in ctx.project.modules:
        # The module's optimizers are looked for first: that is much cheaper than the text searches.
        built = [
            (scope, call, qual)
            for scope in m.scopes
            for call in scope.calls
            if K.kind_of_constructor(qual := m.qualify(call.func)) == K.OPTIMIZER
        ]
        if not built:
            continue
        if _MANUAL_LR.search(m.text):
            continue  # the lr is set by hand in param_groups: the constructor's value is a placeholder
        if _RANGE_TEST.search(m.text):
            continue  # an LR range test starts from a tiny rate on purpose
        for scope, call, qual in built:
            fam = family(qual)
            if fam is None or D.has_star_args(call):
                continue
            if scheds.get(id(call), set()) & _LR_OVERRIDING:
                continue
            lo, hi = float(opts.get(f"{fam}_min", 0.0)), float(opts.get(f"{fam}_max", float("inf")))
            lr = D.call_arg(call, 1, "lr")
            if lr is None:
                continue  # the library default
            values = resolver.values(lr, scope)
            if not values:
                continue
            if not all(v.value > hi or v.value < lo for v in values):
                continue  # a sweep or several configurations, some in range
            opt_name = qual.rsplit(".", 1)[-1] if qual else "optimizer"
            if id(lr) not in reported:
                reported.add(id(lr))
                out.append(_finding(values, opt_name, fam, lo, hi, m, lr))
    ctx.project.__dict__["_tl_lr_findings"] = out
    return out


def _fmt(x: float) -> str:
    return f"{x:g}"


def _finding(values: List[LrValue], opt_name: str, fam: str, lo: float, hi: float, opt_mod: ModuleFacts, lr: cst.BaseExpression) -> Finding:
    """Reported on the optimizer's `lr=` argument; where the number is written is related."""
    v = values[0]
    high = v.value > hi
    origin = {
        "literal": "",
        "constant": " (from a constant)",
        "default": " (a parameter's default that no caller overrides)",
        "argparse": " (the command-line option's default)",
    }[v.source]
    if high:
        effect = (
            "steps this large overshoot: the loss oscillates, diverges to NaN, or the network settles "
            "in a poor region (e.g. dead ReLUs)"
        )
    else:
        effect = "steps this small barely move the weights, so the loss looks stuck and training wastes its budget"
    side = "above" if high else "below"
    shown = ", ".join(sorted({_fmt(x.value) for x in values}))
    related = [(x.module, x.node, "the learning rate is set here") for x in values if x.node is not lr]
    return Finding(
        "TL501",
        opt_mod,
        lr,
        f"learning rate {shown}{origin} for `{opt_name}` is far {side} the usual range for "
        f"{_FAMILY_TEXT[fam]} optimizers ({_fmt(lo)} to {_fmt(hi)}): {effect}. Start from "
        f"{_TYPICAL[fam]}, or find the rate with a learning-rate range test.",
        related=related,
    )


@rule("TL501")
def learning_rate_out_of_range(ctx: RuleContext) -> Iterator[Finding]:
    for f in _findings(ctx):
        if f.module is ctx.module:
            yield f
