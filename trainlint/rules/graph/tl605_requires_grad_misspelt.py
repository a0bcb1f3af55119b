"""TL605 requires-grad-misspelt: `p.require_grad = False` sets an attribute PyTorch never reads."""

from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst

from trainlint import fixes
from trainlint.analysis import kinds as K
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.scopes import visible
from trainlint.analysis.symbols import Resolver
from trainlint.diagnostics import Fix
from trainlint.fixes.core import SAFE, Locate, make_fix
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.graph.common import compact_code

_RIGHT = "requires_grad"
# Misspellings too far from `requires_grad` for the edit distance to catch.
_KNOWN = frozenset({"requires_gradient", "require_gradient", "requires_gradients", "require_gradients"})
# Iterables whose elements are parameters or tensors (`for p in model.parameters()`).
_PARAM_ITER = re.compile(r"\.(named_)?(parameters|buffers)\(")
# Attributes of a layer that hold its parameters.
_PARAM_ATTRS = frozenset({"weight", "bias", "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"})


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbours as one edit (`requries_grad`)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def is_misspelt_requires_grad(name: str) -> bool:
    """`require_grad`, `requires_grads`, `requiresgrad`, `requires_gradient`, `requiresGrad`...
    A private name (`_requires_grad`) is a class's own field, not a typo."""
    low = name.lower()
    if name == _RIGHT or name.startswith("_") or not low.startswith("req") or "grad" not in low:
        return False
    return low in _KNOWN or _distance(low, _RIGHT) <= 2 or _distance(low.replace("_", ""), "requiresgrad") <= 1


def _receiver_kind(target: cst.Attribute, scope: Scope, resolver: Resolver) -> Optional[str]:
    """ "tensor" for a parameter or tensor, "model" for a module, None when unknown."""
    recv = target.value
    if isinstance(recv, cst.Attribute) and recv.attr.value in _PARAM_ATTRS:
        return "tensor"  # `layer.weight.require_grad`
    value = resolver.value_of(recv, scope)
    if value is not None and not value.guess:
        if value.kind == K.MODEL:
            return "model"
        if value.kind == K.TENSOR:
            return "tensor"
    if isinstance(recv, cst.Name):
        _, bindings = visible(scope, recv)
        if bindings and all(_binds_tensor(b.value, b.how, scope.module) for b in bindings):
            return "tensor"
    return None


def _binds_tensor(value: cst.BaseExpression, how: str, module: ModuleFacts) -> bool:
    if how == "for":
        return bool(_PARAM_ITER.search(module.tree.code_for_node(value)))  # `for n, p in m.named_parameters()`
    if how == "assign" and isinstance(value, cst.Call):
        qual = module.qualify(value.func) or ""
        return qual == "torch.nn.Parameter" or _tensor_function(qual)
    return False


def _tensor_function(qual: str) -> bool:
    """`torch.zeros`, `torch.randn`...: a lower-case torch function, which makes a tensor."""
    return qual.startswith("torch.") and qual.rsplit(".", 1)[-1][:1].islower()


def _used_elsewhere(ctx: RuleContext, name: str) -> bool:
    """The misspelt name occurs in the project (code, keyword, comment) other than as the target
    of these assignments: someone reads it, so it may be an object's own field."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    seen = sum(len(word.findall(m.text)) for m in ctx.project.modules if name in m.text)
    stores = sum(
        1
        for m in ctx.project.modules
        if name in m.text
        for s in m.scopes
        for t, _, _ in s.attr_assigns
        if t.attr.value == name
    )
    return seen > stores


def requires_grad_misspelt(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    if "req" not in mod.text:
        return
    for scope in mod.scopes:
        for target, value, _ in scope.attr_assigns:
            name = target.attr.value
            if not is_misspelt_requires_grad(name):
                continue
            if isinstance(target.value, cst.Name) and target.value.value == "self":
                continue  # a class's own flag (`self.require_grad = flag` in its `__init__`)
            kind = _receiver_kind(target, scope, ctx.resolver)
            read = _used_elsewhere(ctx, name)
            if kind is None and read:
                continue  # an unknown object whose field is read elsewhere under this name
            if kind != "tensor" and _own_field(ctx, name):
                continue  # a project class sets `self.<name>` itself: its own flag, not a typo
            made = _made_by(target, scope) if kind != "model" and _is_false(value) else None
            if made is not None:
                kind = "tensor"
            recv = compact_code(mod, target.value)
            if kind == "model":
                advice = (
                    f"call `{recv}.requires_grad_({compact_code(mod, value)})` (a module has no `requires_grad` flag)"
                )
            elif kind == "tensor":
                advice = f"write `{recv}.{_RIGHT} = ...`"
            else:
                advice = f"`{recv}.{_RIGHT} = ...` on a tensor, `{recv}.requires_grad_(...)` on a module"
            effect = (
                f"the line does nothing: a new tensor from `{made}` does not require gradients in the first place"
                if made is not None
                else _effect(value, kind)
            )
            yield Finding(
                "TL605",
                mod,
                target,
                f"`{recv}.{name}` is not `{_RIGHT}`: PyTorch never reads this attribute, so "
                f"{effect}. Fix the spelling: {advice}.",
                fix_builder=fixes.hook(fix_tl605, mod, target) if kind == "tensor" and not read else None,
            )


def _is_false(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Name) and value.value == "False"


def _made_by(target: cst.Attribute, scope: Scope) -> Optional[str]:
    """The torch factory that every definition of the receiver reaching `target` comes from
    (`pe = torch.zeros(n, d).float()`), when none asks for gradients: such a tensor is no leaf
    that trains, with or without the flag."""
    recv = target.value
    if not isinstance(recv, cst.Name):
        return None
    defs, before = SC.scope_index(scope).reaching(recv.value, target)
    if before or not defs:
        return None
    made: Optional[str] = None
    for d in defs:
        value = d.value
        if d.how != "assign" or d.path or not isinstance(value, cst.Call):
            return None
        while isinstance(value.func, cst.Attribute) and isinstance(value.func.value, cst.Call):
            value = value.func.value  # `torch.zeros(...).float()`: the factory
        qual = scope.module.qualify(value.func) or ""
        if not _tensor_function(qual):
            return None  # (`nn.Parameter(...)` included: it trains)
        if any(a.keyword is not None and a.keyword.value == "requires_grad" for a in value.args):
            return None
        made = qual
    return made


def _own_field(ctx: RuleContext, name: str) -> bool:
    key = f"self.{name}"
    return any(key in cls.attrs for m in ctx.project.modules if name in m.text for cls in m.classes.values())


def _effect(value: cst.BaseExpression, kind: Optional[str]) -> str:
    it, gets, them = ("the module's parameters", "get", "them") if kind == "model" else ("the tensor", "gets", "it")
    if _is_false(value):
        return f"nothing is frozen: {it} still {gets} gradients and the optimizer keeps updating {them}"
    if isinstance(value, cst.Name) and value.value == "True":
        return "nothing is unfrozen: what was frozen stays frozen and never trains"
    return f"whether {it} {gets} gradients does not change"


def fix_tl605(locate: Locate, module: ModuleFacts, target: cst.Attribute) -> Optional[Fix]:
    """Rename the attribute to `requires_grad`: safe, since the receiver is a tensor and nothing
    reads the misspelt name (on a module, `requires_grad_()` is meant: no automatic fix)."""
    return make_fix(module, {target.attr: cst.Name(_RIGHT)}, SAFE, f"Rename to `{_RIGHT}`")


RULE = Rule(
    code="TL605",
    name="requires-grad-misspelt",
    family="graph",
    severity=ERROR,
    summary="An assignment to a misspelling of `requires_grad` freezes (or unfreezes) nothing.",
    fixable=True,
    check=requires_grad_misspelt,
    fixes=(fix_tl605,),
    no_runtime_check="the misspelt attribute is set and never read; a run shows nothing the code does not",
)
