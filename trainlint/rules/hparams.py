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

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.options import declare
from trainlint.rules import Finding, RuleContext, rule

# Ranges around each family's documented default (see rules/TL501-learning-rate-out-of-range.md).
# The bounds sit beyond the extreme published, working settings, so that "far outside" is
# really far: Adam-family rates from 5e-7 (DPO fine-tuning of 7B models) to 0.2 (SGC, a single
# linear layer) are in use; SGD from about 1e-6 to 30 (AWD-LSTM, with gradient clipping).
declare(
    "TL501",
    adam_min=3e-7,
    adam_max=0.5,
    sgd_min=1e-6,
    sgd_max=50.0,
    rmsprop_min=3e-7,
    rmsprop_max=0.5,
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
# A loss summed over elements (not averaged) scales the gradient by their number: a tiny rate
# compensates for it (FCN's 1e-10 with a per-pixel summed loss).
_SUMMED_LOSS = re.compile(r"""reduction\s*=\s*['"]sum['"]|size_average\s*=\s*False""")
# Parameters frozen or handed to a parameter-efficient method: only a few tensors (a prompt,
# LayerNorm gains, adapters) may train, and those take rates far above a weight matrix's.
_PARTIAL_TRAINING = re.compile(
    r"requires_grad\s*=\s*False|requires_grad_\(\s*False\s*\)|\bget_peft_model\b|\bPromptTuning|\bPrefixTuning"
    r"|\bPromptEncoder|\bPromptLearning"
)
# Names of parameters that are not weight matrices: prompts and prefixes, norm gains and biases,
# embeddings and latents optimised directly, temperatures and scales.
_NOT_WEIGHTS = re.compile(
    r"prompt|prefix|norm(?!al)|(?:^|[._])ln(?:_|\d|$|\.)|bias|latent|embed|temperature|logit_scale|soft_token",
    re.IGNORECASE,
)


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
            arg = C.bind_default(call, fn, name, bound)
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
            for scope in m.scopes:
                for call in scope.calls:
                    if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"):
                        continue
                    if _dest_of(call) != dest:
                        continue
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
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("update", "setdefault") and dotted(call.func.value) == name:
                raise _Unknown
        for el in defs[0].value.elements:
            if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString) and el.key.evaluated_value == key:
                return [LrValue(v.value, v.node, v.module, "constant") for v in self._values(el.value, s, depth, seen)]
        raise _Unknown


def _dest_of(call: cst.Call) -> Optional[str]:
    dest = C.arg(call, None, "dest", skip_star=True)
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


def _schedulers_of(ctx: RuleContext) -> Tuple[Dict[int, Set[str]], Set[int]]:
    """Optimizer construction (id) -> names of the schedulers built on it; and the modules (ids)
    that build a rate-overriding scheduler on an optimizer the analysis cannot resolve (one per
    optimizer of a list, in a comprehension): which optimizer it drives is unknown there."""
    cached = ctx.project.__dict__.get("_tl_lr_scheds")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out: Dict[int, Set[str]] = {}
    blind: Set[int] = set()
    for m in ctx.project.modules:
        for scope in m.scopes:
            for call in scope.calls:
                qual = m.qualify(call.func)
                if K.kind_of_constructor(qual) != K.SCHEDULER:
                    continue
                name = D.last_name(qual)
                opt = C.arg(call, 0, "optimizer", skip_star=True)
                if opt is None:
                    if name in _LR_OVERRIDING:
                        blind.add(id(m))
                    continue
                origins = _optimizer_origins(ctx, opt, scope, 0)
                if not origins and name in _LR_OVERRIDING:
                    blind.add(id(m))
                for origin in origins:
                    out.setdefault(id(origin), set()).add(name)
    result = (out, blind)
    ctx.project.__dict__["_tl_lr_scheds"] = result
    return result


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


_WEIGHTS, _OTHER, _UNKNOWN = "weights", "other", "unknown"


def _combine(kinds: List[str]) -> str:
    if _WEIGHTS in kinds:
        return _WEIGHTS
    if kinds and all(k == _OTHER for k in kinds):
        return _OTHER
    return _UNKNOWN


def _params_kind(expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str:
    """What the optimizer's first argument trains: the weights of a network (`model.parameters()`),
    something else (a latent or prompt tensor, norm gains, param groups with their own rates),
    or unknown. Only the rate given to weight matrices is judged against the usual ranges."""
    if depth > 6:
        return _UNKNOWN
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            recv = dotted(func.value) or ""
            return _OTHER if _NOT_WEIGHTS.search(recv) else _WEIGHTS
        fname = D.last_name(dotted(func))
        if fname in ("list", "tuple", "chain", "from_iterable") and expr.args:
            return _combine([_params_kind(a.value, scope, depth + 1) for a in expr.args if not a.star])
        if fname == "filter" and len(expr.args) == 2:
            return _params_kind(expr.args[1].value, scope, depth + 1)
        return _UNKNOWN
    if isinstance(expr, (cst.List, cst.Tuple)):
        kinds: List[str] = []
        for el in expr.elements:
            v = el.value
            if isinstance(el, cst.StarredElement):
                kinds.append(_params_kind(v, scope, depth + 1))
            elif isinstance(v, cst.Dict):
                keys = {
                    e.key.evaluated_value: e.value
                    for e in v.elements
                    if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                }
                if "lr" in keys:
                    kinds.append(_OTHER)  # the group sets its own rate: the constructor's is unused there
                elif "params" in keys:
                    kinds.append(_params_kind(keys["params"], scope, depth + 1))
                else:
                    kinds.append(_UNKNOWN)
            elif isinstance(v, cst.Call):
                kinds.append(_params_kind(v, scope, depth + 1))
            elif isinstance(v, (cst.Name, cst.Attribute, cst.Subscript)):
                # a tensor optimised directly: a latent, a prompt, a single parameter
                kinds.append(_OTHER)
            else:
                kinds.append(_UNKNOWN)
        return _combine(kinds)
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
        f = expr.for_in
        if f.inner_for_in is not None:
            return _UNKNOWN
        for cond in f.ifs:
            text = scope.module.tree.code_for_node(cond.test)
            if "requires_grad" not in text or _NOT_WEIGHTS.search(text):
                return _OTHER  # a selection of the parameters (by name, by kind): which ones is unclear
        return _params_kind(f.iter, scope, depth + 1)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        text = dotted(expr) or ""
        if _NOT_WEIGHTS.search(text):
            return _OTHER
        if isinstance(expr, cst.Name):
            defs, open_before = D.scope_index(scope).reaching(expr.value, expr)
            if len(defs) == 1 and not open_before and defs[0].how == "assign" and not defs[0].path:
                return _params_kind(defs[0].value, scope, depth + 1)
            if defs and all(d.how in ("assign", "aug") and not d.path for d in defs):
                # `params = []` then `params += list(m.parameters())` / appends
                return _combine([_params_kind(d.value, scope, depth + 1) for d in defs])
    return _UNKNOWN


@dataclass
class _Built:
    scope: Scope
    call: cst.Call
    qual: Optional[str]
    fam: Optional[str]
    lr: cst.BaseExpression
    values: List[LrValue]


def _findings(ctx: RuleContext) -> List[Finding]:
    cached = ctx.project.__dict__.get("_tl_lr_findings")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    opts = ctx.options
    resolver = LrResolver(ctx)
    scheds, blind = _schedulers_of(ctx)
    summed_loss = any(_SUMMED_LOSS.search(m.text) for m in ctx.project.modules)
    built: List[_Built] = []
    for m in ctx.project.modules:
        # The module's optimizers are looked for first: that is much cheaper than the text searches.
        calls = [
            (scope, call, qual)
            for scope in m.scopes
            for call in scope.calls
            if K.kind_of_constructor(qual := m.qualify(call.func)) == K.OPTIMIZER
        ]
        if not calls:
            continue
        if _MANUAL_LR.search(m.text):
            continue  # the lr is set by hand in param_groups: the constructor's value is a placeholder
        if _RANGE_TEST.search(m.text):
            continue  # an LR range test starts from a tiny rate on purpose
        for scope, call, qual in calls:
            if D.has_star_args(call):
                continue
            lr = C.arg(call, 1, "lr", skip_star=True)
            if lr is None:
                continue  # the library default
            values = resolver.values(lr, scope)
            if values:
                built.append(_Built(scope, call, qual, family(qual), lr, values))
    # A value written once (an option's default, a constant) that reaches optimizers of several
    # families was chosen for one of them: which one runs is decided at run time.
    families_of: Dict[int, Set[Optional[str]]] = {}
    for b in built:
        for v in b.values:
            if v.source != "literal":
                families_of.setdefault(id(v.node), set()).add(b.fam)
    out: List[Finding] = []
    reported: Set[int] = set()
    for b in built:
        fam, m = b.fam, b.scope.module
        if fam is None:
            continue
        if scheds.get(id(b.call), set()) & _LR_OVERRIDING or id(m) in blind:
            continue
        if any(len(families_of.get(id(v.node), {fam})) > 1 for v in b.values):
            continue
        lo, hi = float(opts.get(f"{fam}_min", 0.0)), float(opts.get(f"{fam}_max", float("inf")))
        high = all(v.value > hi for v in b.values)
        low = all(v.value < lo for v in b.values)
        if not (high or low):
            continue  # in range, or a sweep / several configurations, some in range
        if low and summed_loss:
            continue  # a summed loss scales the gradient up; a tiny rate is the usual answer
        kind = _params_kind(b.call.args[0].value, b.scope) if b.call.args and not b.call.args[0].keyword else _UNKNOWN
        if kind == _OTHER:
            continue  # not weight matrices: prompts, latents, norm gains, groups with their own rate
        if high and _PARTIAL_TRAINING.search(m.text):
            continue  # most parameters frozen: the few that train may take a large rate
        opt_name = b.qual.rsplit(".", 1)[-1] if b.qual else "optimizer"
        if id(b.lr) not in reported:
            reported.add(id(b.lr))
            out.append(_finding(b.values, opt_name, fam, lo, hi, m, b.lr))
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
