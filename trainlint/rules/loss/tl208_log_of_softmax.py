"""TL208 log-of-softmax: `log` of a softmax or sigmoid output, where a log-space op exists."""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

import libcst as cst

from trainlint.analysis import data as D
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext

# What squashes into (0, 1), and the op that gives its log directly.
_SQUASH = {
    "torch.softmax": "F.log_softmax",
    "torch.nn.functional.softmax": "F.log_softmax",
    "torch.special.softmax": "F.log_softmax",
    "torch.sigmoid": "F.logsigmoid",
    "torch.nn.functional.sigmoid": "F.logsigmoid",
    "torch.special.expit": "F.logsigmoid",
}
_SQUASH_METHODS = {"softmax": "F.log_softmax", "sigmoid": "F.logsigmoid"}
_LOGS = {"torch.log", "torch.special.log"}
_TRACED = {M.SOFTMAX: "F.log_softmax", M.SIGMOID: "F.logsigmoid"}


def log_of_softmax(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            inner = _log_argument(mod, call)
            if inner is None:
                continue
            found = _squash(mod, scope, inner, call) or _traced_squash(ctx, scope, inner)
            if found is None:
                continue
            squash, better, home = found
            what = "sigmoid" if "sigmoid" in better else "softmax"
            yield Finding(
                "TL208",
                mod,
                call,
                f"`log` of a {what} output: the {what} rounds small probabilities to exactly 0 in float32 "
                f"(below about 1e-38, i.e. a logit gap of ~87), whose log is -inf, and its gradient is then NaN; "
                f"long before that it loses precision. `{better}` computes the same value in log space, stably. "
                f"Use `{better}` on the logits instead of `log({what}(...))`.",
                related=[(home, squash, f"the {what} whose log is taken")] if squash is not inner else [],
            )


def _log_argument(mod: ModuleFacts, call: cst.Call) -> Optional[cst.BaseExpression]:
    """`x` of `torch.log(x)` or of `x.log()`."""
    qual = mod.qualify(call.func)
    if qual in _LOGS and call.args and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    if qual is None and isinstance(call.func, cst.Attribute) and call.func.attr.value == "log" and not call.args:
        return call.func.value
    return None


def _squash(
    mod: ModuleFacts, scope: Scope, expr: cst.BaseExpression, at: cst.CSTNode
) -> Optional[Tuple[cst.CSTNode, str, ModuleFacts]]:
    """The softmax or sigmoid call `expr` is, directly or through the one assignment of a name
    (`p = F.softmax(x, dim=1)` then `torch.log(p)`). An epsilon or a clamp in between keeps the
    log finite: no finding."""
    if isinstance(expr, cst.Name):
        defs, maybe_outer = D.scope_index(scope).reaching(expr.value, at)
        if maybe_outer or len(defs) != 1 or defs[0].how != "assign" or defs[0].path:
            return None
        expr = defs[0].value
    if not isinstance(expr, cst.Call):
        return None
    qual = mod.qualify(expr.func)
    if qual in _SQUASH:
        return expr, _SQUASH[qual], mod
    if qual is None and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _SQUASH_METHODS:
        if isinstance(expr.func.value, cst.Name) and expr.func.value.value == "self":
            return None  # a layer attribute named `softmax`
        return expr, _SQUASH_METHODS[expr.func.attr.value], mod
    return None


def _traced_squash(
    ctx: RuleContext, scope: Scope, expr: cst.BaseExpression
) -> Optional[Tuple[cst.CSTNode, str, ModuleFacts]]:
    """A model's output whose last operation is a softmax or sigmoid on every path
    (`probs = self.policy(state)` where the policy ends in `nn.Softmax`), or a name or index
    into one. An epsilon or a clamp on the way stops the tracer, as above."""
    if not isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
        return None
    op = FL.tracer_for(ctx.project, ctx.resolver).op(expr, scope)
    if op is None or op.kind not in _TRACED or op.owner is None:
        return None  # (only a model's output: a direct call is read above)
    return op.applied or op.node, _TRACED[op.kind], op.module


RULE = Rule(
    code="TL208",
    name="log-of-softmax",
    family="loss",
    severity=WARNING,
    summary="`log` of a softmax or sigmoid output, where a log-space op exists.",
    check=log_of_softmax,
    no_runtime_check="the loss of precision happens for some inputs only: a short run rarely meets one",
)
