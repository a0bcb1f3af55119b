"""TL207 softmax-without-dim: `softmax`/`log_softmax` without an explicit `dim`."""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.module_facts import scope_of_call
from trainlint.analysis.shapes import RESHAPES, shape_unpack
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Fix
from trainlint.fixes.builders import add_keyword, in_lambda
from trainlint.fixes.core import UNSAFE, Locate, make_fix
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.loss.common import defects

# qualified name -> position of `dim`
_SOFTMAX_DIM = {
    "torch.nn.functional.softmax": 1,
    "torch.nn.functional.log_softmax": 1,
    "torch.nn.functional.softmin": 1,
    "torch.softmax": 1,
    "torch.log_softmax": 1,
    "torch.nn.Softmax": 0,
    "torch.nn.LogSoftmax": 0,
    "torch.nn.Softmin": 0,
    "torch.nn.modules.activation.Softmax": 0,
    "torch.nn.modules.activation.LogSoftmax": 0,
}


def softmax_without_dim(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            qual = mod.qualify(call.func)
            if qual in _SOFTMAX_DIM:
                position = _SOFTMAX_DIM[qual]
            elif (
                qual is None
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in ("softmax", "log_softmax")
            ):
                if isinstance(call.func.value, cst.Name) and call.func.value.value == "self":
                    continue  # a layer attribute called `softmax`
                position = 0
            else:
                continue
            if _has_dim(call, position):
                continue
            text = FL.snippet(mod, call)
            yield Finding(
                "TL207",
                mod,
                call,
                f"`{text}` has no `dim`: PyTorch then guesses the axis (dim 0 for 0-D, 1-D and 3-D inputs, "
                "dim 1 otherwise), so for a single example or a batch of sequences it normalises across the "
                "batch or the time steps instead of the classes. Pass `dim=` explicitly (usually `dim=-1`).",
                fix_builder=fixes.hook(fix_tl207, mod, call),
            )
    yield from _normalised_over_batch(ctx)
    if "unsqueeze" in ctx.module.text or "None" in ctx.module.text:
        yield from _batch_axis_by_default(ctx)


def _batch_axis_by_default(ctx: RuleContext) -> Iterator[Finding]:
    """`def forward(self, state, softmax_dim=0): ... F.softmax(x, dim=softmax_dim)` (a policy
    written for one unbatched state), called with the default on a batch of one
    (`self.forward(state.unsqueeze(0))`): dim 0 is then the batch axis, and every probability is 1."""
    mod = ctx.module
    for scope in mod.scopes:
        fn = scope.node
        if scope.cls is None or not isinstance(fn, cst.FunctionDef):
            continue
        params = [p for p in fn.params.params if p.default is not None]
        zeros = {p.name.value for p in params if isinstance(p.default, cst.Integer) and p.default.value == "0"}
        if not zeros:
            continue
        for call in scope.calls:
            qual = mod.qualify(call.func) or ""
            if qual not in _SOFTMAX_DIM or _SOFTMAX_DIM[qual] != 1:
                continue
            dim = C.arg(call, 1, "dim")
            if not (isinstance(dim, cst.Name) and dim.value in zeros):
                continue
            site = _batched_call_with_the_default(ctx, scope, fn, dim.value)
            if site is None:
                continue
            caller, use = site
            text = FL.snippet(mod, call)
            yield Finding(
                "TL207",
                mod,
                call,
                f"`{text}` normalises over `{dim.value}`, which defaults to 0, and `{FL.snippet(caller.module, use)}` "
                "calls it with that default on a batch (its input has a leading batch axis from `unsqueeze(0)`): "
                "dim 0 is then the batch axis, so with one example every probability is 1 and sampling is "
                f"uniform. Default `{dim.value}` to -1 (the class axis), or pass it at this call.",
                related=[(caller.module, use, "called here with the default, on a batch")],
            )


def _batched_call_with_the_default(
    ctx: RuleContext, scope: Scope, fn: cst.FunctionDef, param: str
) -> Optional[Tuple[Scope, cst.Call]]:
    """A call of the method that leaves `param` to its default and hands it a batched input."""
    names = [p.name.value for p in fn.params.params]
    index = names.index(param) - (1 if names and names[0] == "self" else 0)
    for caller, call in ctx.project.callers(scope):
        args = [a for a in call.args if a.keyword is None]
        if any(a.star for a in call.args) or len(args) > index:
            continue
        if any(a.keyword is not None and a.keyword.value == param for a in call.args):
            continue
        if args and _batched(caller, args[0].value, call):
            return caller, call
    return None


def _batched(scope: Scope, expr: cst.BaseExpression, use: cst.CSTNode) -> bool:
    """`x.unsqueeze(0)` or `x[None]`, written in the argument or in the definition of the name
    that reaches it (`state = torch.FloatTensor(state).unsqueeze(0).to(device)`)."""
    if isinstance(expr, cst.Name):
        defs, _ = SC.scope_index(scope).reaching(expr.value, use)
        return bool(defs) and all(d.how == "assign" and not d.path and _adds_batch_axis(d.value) for d in defs)
    return _adds_batch_axis(expr)


def _adds_batch_axis(expr: Optional[cst.BaseExpression]) -> bool:
    for node in walk(expr) if expr is not None else ():
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "unsqueeze":
            if _dim_is_zero(node, 0):
                return True
        if isinstance(node, cst.Subscript) and node.slice:
            first = node.slice[0].slice
            if isinstance(first, cst.Index) and isinstance(first.value, cst.Name) and first.value.value == "None":
                return True
    return False


def _normalised_over_batch(ctx: RuleContext) -> Iterator[Finding]:
    """A `log_softmax` over dim 0 feeding `NLLLoss`: the loss reads its input as `(batch,
    classes)`, so dim 0 is the batch axis (`F.log_softmax(self.fc3(x), dim=0)` returned by a
    classifier whose output trains with `F.nll_loss`)."""
    for site in defects(ctx, FL.NLL, (M.LOG_SOFTMAX,)):
        op = site.op
        call = op.node
        if not isinstance(call, cst.Call):
            continue
        qual = op.module.qualify(call.func)
        position = _SOFTMAX_DIM.get(qual or "", 0)
        if not _dim_is_zero(call, position):
            continue
        text = FL.snippet(op.module, call)
        yield Finding(
            "TL207",
            op.module,
            call,
            f"`{text}` normalises over dim 0, but `{site.lc.name}` reads its input as `(batch, classes)`: "
            "dim 0 is the batch axis, so each class's scores are turned into a distribution over the "
            "examples of the batch, and the loss trains the model to rank examples instead of classes. "
            "Normalise over the class axis (`dim=1`, or `dim=-1`).",
            related=[(site.lc.module, site.lc.node, f"`{site.lc.name}` is fed this output here"), *site.related],
        )


def _dim_is_zero(call: cst.Call, position: int) -> bool:
    """`dim=0`, by keyword or at `position`."""
    value = C.arg(call, position, "dim")
    digits = value.expression if isinstance(value, cst.UnaryOperation) else value
    return value is not None and isinstance(digits, cst.Integer) and M.number(value) == 0


def _has_dim(call: cst.Call, position: int) -> bool:
    positional = 0
    for arg in call.args:
        if arg.star:
            return True  # *args / **kwargs may carry it
        if arg.keyword is not None:
            if arg.keyword.value in ("dim", "axis"):  # (torch's functions take NumPy's `axis` as `dim`)
                return not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
            continue
        if positional == position:
            return not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
        positional += 1
    return False


def fix_tl207(locate: Locate, module: ModuleFacts, call: cst.Call) -> Optional[Fix]:
    """Pass `dim=-1` explicitly: the class axis of `(batch, classes)` and `(batch, steps,
    classes)` outputs (for `(N, C, H, W)` maps the class axis is 1: review)."""
    if in_lambda(module, call) or any(a.star for a in call.args):
        return None
    rank = _input_rank(module, call)
    if rank == 3:
        return None  # `(batch, steps, classes)` or `(batch, classes, steps)`: the axis is the reader's call
    if rank is not None and rank >= 4:
        # PyTorch's guess for `(N, C, H, W)` maps was the class axis: keep it, now written out.
        return make_fix(module, {call: add_keyword(module, call, "dim", "1")}, UNSAFE, "Pass `dim=1` (the class axis)")
    return make_fix(
        module,
        {call: add_keyword(module, call, "dim", "-1")},
        UNSAFE,
        "Pass `dim=-1` (the last axis; for (N, C, H, W) outputs the class axis is `dim=1`)",
    )


def _input_rank(module: ModuleFacts, call: cst.Call) -> Optional[int]:
    """The rank of a functional softmax's input when the function spells it out: unpacked
    from its shape (`n, c, h, w = x.size()`) or reshaped in the call (`x.view(n, c, -1)`)."""
    first = call.args[0].value if call.args and call.args[0].keyword is None else None
    if first is None:
        return None
    if isinstance(first, cst.Call) and isinstance(first.func, cst.Attribute) and first.func.attr.value in RESHAPES:
        if first.args and not any(a.star for a in first.args) and not isinstance(first.args[0].value, cst.Tuple):
            return len(first.args)
        return None
    if not isinstance(first, cst.Name):
        return None
    scope = scope_of_call(module, call)
    if scope is None:
        return None
    for b in scope.bindings.values():
        for binding in b:
            unpack = shape_unpack(binding.stmt)
            if unpack is not None and unpack[0] == first.value:
                return len(unpack[1])
    return None


RULE = Rule(
    code="TL207",
    name="softmax-without-dim",
    family="loss",
    severity=WARNING,
    summary="`softmax`/`log_softmax` without an explicit `dim`.",
    fixable=True,
    check=softmax_without_dim,
    fixes=(fix_tl207,),
    no_runtime_check="softmax's default dim is a matter of code, not of values",
)
