"""TL208 log-of-softmax: `log` of a softmax or sigmoid output, where a log-space op exists."""

from __future__ import annotations

from typing import Iterator, List, Optional, Tuple

import libcst as cst

from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.origins import value_origins
from trainlint.analysis.purpose import is_test_code
from trainlint.analysis.walk import walk
from trainlint.fixes.edits import ancestors
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
# (the softmax or sigmoid node, the log-space op to use instead, the module holding the node)
_Found = Tuple[cst.CSTNode, str, ModuleFacts]


def log_of_softmax(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            inner = _log_argument(mod, call)
            if inner is None:
                continue
            found = _softmax_of(ctx, scope, inner)
            if found is not None:
                squash, better, home = found
                what = "sigmoid" if "sigmoid" in better else "softmax"
                yield Finding(
                    "TL208",
                    mod,
                    call,
                    f"`log` of a {what} output: the {what} rounds small probabilities to exactly 0 in float32 "
                    f"(below about 1e-38, i.e. a logit gap of ~87), whose log is -inf, and its gradient is then "
                    f"NaN; long before that it loses precision. `{better}` computes the same value in log space, "
                    f"stably. Use `{better}` on the logits instead of `log({what}(...))`.",
                    related=[(home, squash, f"the {what} whose log is taken")] if squash is not inner else [],
                )
                continue
            if is_test_code(scope):
                continue  # (a unit test computing a reference value by hand)
            guard, core = _unguarded(mod, inner)
            patched = (
                _guarded_softmax(ctx, scope, inner)
                if guard is None
                else (core, "F.log_softmax", mod, guard)
                if _squash(mod, core) == "F.log_softmax"
                else None
            )
            if patched is not None and not _weighs_its_own_log(mod, call, inner):
                squash, better, home, guard = patched
                yield Finding(
                    "TL208",
                    mod,
                    call,
                    f"`log` of a softmax patched with an {guard} (`{FL.snippet(mod, inner)}`): the {guard} keeps the "
                    "log finite, but once the softmax rounds a probability to 0 (or below the epsilon) its "
                    "gradient is 0, so the predictions that are most wrong stop being corrected; the "
                    f"{guard} also biases every value. `{better}` computes the log-probabilities exactly and "
                    f"stably: use `{better}` on the logits instead.",
                    related=[(home, squash, "the softmax whose log is taken")],
                )
                continue
            picked = _picked_probability(ctx, scope, core)
            if picked is None or (guard is not None and _weighs_its_own_log(mod, call, core)):
                continue  # (`-(p[m] * torch.log(p[m] + eps)).sum()`: an entropy, each term weighed by p)
            squash, better, home = picked
            what = "sigmoid" if "sigmoid" in better else "softmax"
            if guard is None:
                effect = (
                    f"the {what} rounds small probabilities to exactly 0 in float32 (below about 1e-38, a logit "
                    "gap of ~87), whose log is -inf, and its gradient is then NaN"
                )
            else:
                effect = (
                    f"the {guard} keeps the log finite, but once the {what} rounds the picked probability to 0 "
                    "(or below the epsilon) its gradient is 0, so the predictions that are most wrong stop "
                    "being corrected"
                )
            yield Finding(
                "TL208",
                mod,
                call,
                f"`log` of the {what} probabilities picked for the targets (a log-likelihood): {effect}. "
                f"Take `{better}` of the logits and pick from it (`{better}(logits, dim=-1).gather(-1, idx)`).",
                related=[(home, squash, f"the {what} whose picked entries are logged")],
            )


def _log_argument(mod: ModuleFacts, call: cst.Call) -> Optional[cst.BaseExpression]:
    """`x` of `torch.log(x)` or of `x.log()`."""
    qual = mod.qualify(call.func)
    if qual in _LOGS and call.args and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    if qual is None and isinstance(call.func, cst.Attribute) and call.func.attr.value == "log" and not call.args:
        return call.func.value
    return None


def _softmax_of(ctx: RuleContext, scope: Scope, expr: cst.BaseExpression) -> Optional[_Found]:
    """The softmax or sigmoid `expr` holds on every path: a call of one, reached through names,
    helper returns and parameters every caller binds to one (`p = F.softmax(x, dim=1)` then
    `torch.log(p)`), or a model's output that ends in one. An epsilon or a clamp in between
    keeps the log finite: no finding."""
    hits: List[Optional[_Found]] = []
    for origin, where in value_origins(ctx.project, expr, scope):
        better = _squash(where.module, origin)
        hits.append(None if better is None else (origin, better, where.module))
    if hits and all(h is not None for h in hits):
        return hits[0]
    return _traced_squash(ctx, scope, expr)


def _squash(mod: ModuleFacts, expr: cst.BaseExpression) -> Optional[str]:
    """The log-space op for the softmax or sigmoid call `expr` is, if it is one."""
    if not isinstance(expr, cst.Call):
        return None
    qual = mod.qualify(expr.func)
    if qual in _SQUASH:
        return _SQUASH[qual]
    if qual is None and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _SQUASH_METHODS:
        if isinstance(expr.func.value, cst.Name) and expr.func.value.value == "self":
            return None  # a layer attribute named `softmax`
        return _SQUASH_METHODS[expr.func.attr.value]
    return None


def _traced_squash(
    ctx: RuleContext, scope: Scope, expr: cst.BaseExpression
) -> Optional[Tuple[cst.CSTNode, str, ModuleFacts]]:
    """A model's output whose last operation is a softmax or sigmoid on every path
    (`probs = self.policy(state)` where the policy ends in `nn.Softmax`), a layer built
    elsewhere and applied here (`self.softmax = nn.Softmax2d()`, then `self.softmax(x)`), or a
    name or index into one. An epsilon or a clamp on the way stops the tracer, as above."""
    if not isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
        return None
    op = FL.tracer_for(ctx.project, ctx.resolver).op(expr, scope)
    if op is None or op.kind not in _TRACED or (op.owner is None and op.applied is None):
        return None  # (a direct call is read above)
    return op.applied or op.node, _TRACED[op.kind], op.module


def _unguarded(mod: ModuleFacts, expr: cst.BaseExpression) -> Tuple[Optional[str], cst.BaseExpression]:
    """`p.clamp(min=eps)`, `torch.clamp(p, min=eps)` or `p + eps` -> ("clamp" / "epsilon", p)."""
    if isinstance(expr, cst.Call):
        func = expr.func
        qual = mod.qualify(func)
        if qual in ("torch.clamp", "torch.clamp_min", "torch.clip") and expr.args and not expr.args[0].keyword:
            return "clamp", expr.args[0].value
        if qual is None and isinstance(func, cst.Attribute) and func.attr.value in ("clamp", "clamp_min", "clip"):
            return "clamp", func.value
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        for value, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if _small_constant(other):
                return "epsilon", value
    return None, expr


def _guarded_softmax(
    ctx: RuleContext, scope: Scope, expr: cst.BaseExpression, depth: int = 0
) -> Optional[Tuple[cst.CSTNode, str, ModuleFacts, str]]:
    """A name that holds a softmax plus an epsilon (or clamped) on every path (`input_soft =
    F.softmax(input, dim=1) + self.eps`, then `torch.log(input_soft)`): the softmax, the
    log-space op, its module and the guard. Sigmoids are left out: `log(sigmoid + eps)` pairs
    with `log(1 - sigmoid + eps)` in hand-written binary losses."""
    if not isinstance(expr, cst.Name):
        return None
    hits: List[Optional[Tuple[cst.CSTNode, str, ModuleFacts, str]]] = []
    for origin, where in value_origins(ctx.project, expr, scope):
        if isinstance(origin, cst.Subscript) and isinstance(origin.value, cst.Name) and depth < 2:
            hits.append(_guarded_softmax(ctx, where, origin.value, depth + 1))  # `p = p[mask]`
            continue
        guard, core = _unguarded(where.module, origin) if isinstance(origin, cst.BaseExpression) else (None, origin)
        better = _squash(where.module, core) if guard is not None and isinstance(core, cst.BaseExpression) else None
        hits.append(None if better != "F.log_softmax" or guard is None else (core, better, where.module, guard))
    return hits[0] if hits and all(h is not None for h in hits) else None


def _small_constant(expr: cst.BaseExpression) -> bool:
    """`1e-8`, or a name spelled like one (`eps`, `self.eps`, `EPSILON`)."""
    if isinstance(expr, cst.Float):
        return True
    name = expr.attr.value if isinstance(expr, cst.Attribute) else expr.value if isinstance(expr, cst.Name) else ""
    return name.lower().startswith("eps") or name.lower() in ("tiny", "delta")


def _picked_probability(ctx: RuleContext, scope: Scope, expr: cst.BaseExpression) -> Optional[_Found]:
    """The softmax or sigmoid whose entries `expr` picks for the targets on every path:
    `p.gather(-1, idx)`, `torch.gather(p, 1, idx)` or `p[rows, labels]`, also through names and
    helper parameters (`log_prob(prob, seq)`)."""
    hits: List[Optional[_Found]] = []
    for origin, where in value_origins(ctx.project, expr, scope):
        base = _picked_from(where.module, origin)
        hits.append(None if base is None else _softmax_of(ctx, where, base))
    return hits[0] if hits and all(h is not None for h in hits) else None


def _weighs_its_own_log(mod: ModuleFacts, log: cst.Call, picked: cst.BaseExpression) -> bool:
    """The log is multiplied by the very probabilities it is taken of (an entropy term)."""
    names = {n.value for n in walk(picked) if isinstance(n, cst.Name)}
    inside: cst.CSTNode = log
    for up in ancestors(mod, log):
        if isinstance(up, cst.BaseStatement):
            return False
        if isinstance(up, cst.BinaryOperation) and isinstance(up.operator, cst.Multiply):
            other = up.right if up.left is inside else up.left
            if any(isinstance(n, cst.Name) and n.value in names for n in walk(other)):
                return True
        inside = up
    return False


def _picked_from(mod: ModuleFacts, expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`p` of `p.gather(dim, idx)`, `torch.gather(p, dim, idx)` or `p[rows, idx]` (an index by
    a tensor or a range, not a slice or a number)."""
    if isinstance(expr, cst.Call):
        if mod.qualify(expr.func) == "torch.gather" and expr.args and not expr.args[0].keyword:
            return expr.args[0].value
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "gather" and expr.args:
            return expr.func.value
        return None
    if isinstance(expr, cst.Subscript):
        indexes = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
        if any(isinstance(i, (cst.Name, cst.Attribute, cst.Call)) for i in indexes):
            return expr.value
    return None


RULE = Rule(
    code="TL208",
    name="log-of-softmax",
    family="loss",
    severity=WARNING,
    summary="`log` of a softmax or sigmoid output, where a log-space op exists.",
    check=log_of_softmax,
    no_runtime_check="the loss of precision happens for some inputs only: a short run rarely meets one",
)
