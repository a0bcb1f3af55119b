"""TL404 eval-without-no-grad: An evaluation pass builds an autograd graph it never uses."""

from __future__ import annotations

import re
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import derived as DV
from trainlint.analysis import flow as FL
from trainlint.analysis import loops as L
from trainlint.analysis import modes as MD
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.autograd import backward_calls
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.loops import Event
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import words
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import pass_statement
from trainlint.fixes.core import SAFE, UNSAFE, Locate, make_fix
from trainlint.fixes.edits import (
    parse_expression,
    torch_alias,
)
from trainlint.rules.base import INFO, Finding, Rule, RuleContext
from trainlint.runtime.judging.common import no_eval_pass
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted
from trainlint.runtime.records import PassKind


def eval_without_no_grad(ctx: RuleContext) -> Iterator[Finding]:
    passes = MD.eval_passes(ctx)
    own_loop = {id(ep.forward.scope) for ep in passes if ep.loop is not None and ep.loop.scope is ep.forward.scope}
    loops: Set[Tuple[int, str]] = set()  # (evaluation loop, model) already reported
    for ep in passes:
        if _inside_a_reported_loop(ep, loops):
            continue  # (the same model in a nested loop of the same evaluation: one finding)
        if ep.loop is not None and ep.loop.scope is not ep.forward.scope and id(ep.forward.scope) in own_loop:
            continue  # (a decoding helper's loop is reported in the helper: one fix covers both passes)
        if _generate_with_own_loop(ctx, ep):
            continue  # (`model.generate(x)` whose decoding loop is reported in `generate` itself)
        if MD.made_up_input(ep) or MD.rebuilt_each_iteration(ep) or MD.other_arm_without_grad(ep):
            continue  # a warm-up on zeros, a module rebuilt per item, or gradients chosen by an `if`
        if MD.parameters_frozen_before(ep) or _nothing_to_record(ctx, ep):
            continue  # every parameter frozen first, or none at all: the forward records no graph
        if _forward_differentiates(ctx, ep):
            continue  # an energy model or an unrolled inner optimiser: `no_grad` would break it
        if ep.loop is None and _inference_entry(ctx, ep):
            yield _inference_entry_finding(ctx, ep)
            continue
        generates = ep.loop is None and _generates(ctx, ep)
        if ep.loop is None and not generates and not _between_eval_and_train(ep):
            continue  # (a lone forward records one graph: nothing worth a finding)
        left = MD.call_left_with_grad(ctx, ep) if MD.eval_named(ctx, ep) else None
        if left is not None:
            yield _left_with_grad(ep, *left)
            continue
        if MD.grad_disabled(ctx, ep):
            continue
        mode = MD.mode_at(ctx, ep.scope, MD.event_anchor(ep.forward), ep.model)
        if (
            mode.mode != "eval"
            and (not MD.eval_named(ctx, ep) or not MD.has_weights(ctx, ep.model))
            and not _generation_loop(ep)
        ):
            continue  # nothing says this evaluates (a lone forward needs `model.eval()` before it)
        name = FL.snippet(ep.forward.module, ep.forward.callee)
        shared = _evaluating_call(ctx, ep, mode)
        if shared is not None:
            caller, call = shared
            yield Finding(
                "TL404",
                caller.module,
                call,
                f"`{FL.snippet(caller.module, call)}` evaluates (the model is in eval mode here) with gradients "
                f"enabled: the loop it runs calls `{name}`, and autograd records every operation and keeps "
                "the activations of each batch alive for a backward that never comes. The same function also "
                "trains, so it cannot turn gradients off itself: wrap this call in `with torch.no_grad():`.",
                related=[(ep.forward.module, ep.forward.node, "the forward pass it runs"), *MD.path_to_forward(ep)],
            )
            continue
        related = MD.path_to_forward(ep) + _eval_mode_of_caller(ep, mode)
        if ep.flag is not None:
            yield Finding(
                "TL404",
                ep.forward.module,
                ep.forward.node,
                f"when `{ep.flag}` is false (as a caller passes it) this loop only evaluates, yet it calls "
                f"`{name}` with gradients enabled: autograd records every operation and keeps the "
                "activations of each batch alive for a backward that never comes, which costs memory and "
                f"time. Run the forward under `with torch.set_grad_enabled({ep.flag}):`.",
                related=related,
                fix_builder=fixes.hook(fix_tl404_flag, ep.forward, ep.flag),
            )
            continue
        what = (
            f"this evaluation loop calls `{name}`"
            if ep.loop is not None
            else f"this evaluation calls `{name}`, which runs the model step after step in a loop,"
            if generates
            else f"`{ep.scope.simple_name}` evaluates `{name}` between `.eval()` and `.train()` (a check run "
            "in the middle of training, call after call)"
        )
        yield Finding(
            "TL404",
            ep.forward.module,
            ep.forward.node,
            f"{what} with gradients enabled: autograd records every operation "
            "and keeps the activations of each batch alive for a backward that never comes, which costs "
            f"memory and time. Wrap the {'loop' if ep.loop is not None else 'call'} in `with torch.no_grad():` "
            "(or `torch.inference_mode()`), or "
            "decorate the function with `@torch.no_grad()`.",
            related=related,
            fix_builder=fixes.hook(fix_tl404, ctx, ep.loop, ep.forward),
        )


def _nothing_to_record(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """Every model the pass runs holds no parameter (`fft = Audio2Mel(...)`, buffers only): on
    data that does not require gradients, autograd records nothing."""
    forwards = [e for e in ep.loop.events if e.kind == L.FORWARD] if ep.loop is not None else [ep.forward]
    return bool(forwards) and all(
        e.receiver is not None
        and isinstance(e.receiver.cls, ClassFacts)
        and M.holds_no_parameters(e.receiver.cls, ctx.project)
        for e in forwards
    )


def _forward_differentiates(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """The model's own `forward` takes gradients (`torch.autograd.grad`, a tensor made with
    `requires_grad=True`, a differentiable inner optimiser from `higher`): it needs autograd to
    compute its output, at evaluation too."""
    callee = ep.forward.callee
    fwd = ctx.resolver.forward_of(callee, ep.forward.scope) if isinstance(callee, cst.BaseExpression) else None
    if fwd is None:
        return False
    for call in fwd.calls:
        qual = fwd.module.qualify(call.func) or ""
        if qual in ("torch.autograd.grad", "torch.autograd.functional.jacobian") or qual.startswith("higher."):
            return True
        if D.is_true(C.arg(call, None, "requires_grad", skip_star=True)):
            return True
    return False


_GENERATION_WORDS = frozenset({"generate", "generation", "sample", "sampling", "decode", "greedy", "beam"})


def _generation_loop(ep: MD.EvalPass) -> bool:
    """`def generate_text(...)`: a loop that feeds the forward's own output back into it
    (`prediction, hidden = self.forward(input, hidden)`), in a function named for generation:
    sampling, which nothing trains on, with each step's graph chained to the last."""
    call = MD.event_anchor(ep.forward)  # (the call in the loop, not a layer inside `forward`)
    if ep.loop is None or not isinstance(call, cst.Call) or not words(ep.scope.simple_name) & _GENERATION_WORDS:
        return False
    defs = SC.scope_index(ep.scope).defs
    fed = [a.value.value for a in call.args if isinstance(a.value, cst.Name)]
    return any(d.value is call for n in fed for d in defs.get(n, []))


def _between_eval_and_train(ep: MD.EvalPass) -> bool:
    """`self.netG.eval(); self.fake_H = self.netG(self.var_L); self.netG.train()`: a method that
    evaluates the model in the middle of training (a validation helper called for each image)
    and hands it back in training mode. Each call records a graph no backward uses."""
    callee = ep.forward.callee
    if ep.forward.via or not isinstance(callee, cst.BaseExpression) or ep.scope.simple_name == "forward":
        return False  # (a module's `forward` that evaluates a part runs inside its callers' graphs)
    name = dotted(callee)
    anchor = SC.order(ep.scope, MD.event_anchor(ep.forward))
    if name is None or anchor is None or MD.fed_made_up_input(ep.forward):
        return False  # (a probe on random input)
    before = after = False
    for call, mode in MD.textual_modes(ep.scope):
        o = SC.order(ep.scope, call)
        if o is None or dotted(call.func.value) != name:  # type: ignore[attr-defined]
            continue
        before = before or (mode == "eval" and o < anchor)
        # `model.train()` itself, as a statement of the function's body: training resumes
        # whatever mode the model came in with (not `train(was_training)`, not under an `if`)
        after = after or (mode == "train" and o > anchor and not call.args and not SC.enclosing(ep.scope, call))
    return before and after and not any(b.scope is ep.scope for b in backward_calls(ep.scope.module))


def _generate_with_own_loop(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """A project `generate` that puts its model in eval mode and runs it step by step in a loop
    of its own: that loop is the evaluation reported (in `generate`, wherever it is defined)."""
    cls = ep.model.cls
    if not ep.forward.generates or not isinstance(cls, ClassFacts) or not MD.generate_sets_eval(ctx, ep):
        return False
    return _steps_in_a_loop(ctx, cls, "generate")


def _inside_a_reported_loop(ep: MD.EvalPass, loops: Set[Tuple[int, str]]) -> bool:
    """Whether an enclosing loop of the pass already holds a pass of the same model (a mesh
    evaluator's outer and inner loops each call the embedder); records this pass's loop."""
    if ep.loop is None or ep.loop.scope is not ep.forward.scope:
        return False
    model = FL.snippet(ep.forward.module, ep.forward.callee)
    around = [n for n in SC.enclosing(ep.loop.scope, ep.loop.node) if isinstance(n, (cst.For, cst.While))]
    if any((id(n), model) in loops for n in around):
        return True
    loops.add((id(ep.loop.node), model))
    return False


def _left_with_grad(ep: MD.EvalPass, caller: Scope, call: cst.Call, other: Scope, guarded: cst.Call) -> Finding:
    name = FL.snippet(ep.forward.module, ep.forward.callee)
    return Finding(
        "TL404",
        caller.module,
        call,
        f"`{FL.snippet(caller.module, call)}` runs an evaluation with gradients enabled: the loop it "
        f"reaches calls `{name}`, and autograd records every operation and keeps the activations of each "
        f"batch alive for a backward that never comes. `{other.simple_name}` calls the same function under "
        "`torch.no_grad()`; wrap this call in `with torch.no_grad():` too.",
        related=[
            (ep.forward.module, ep.forward.node, "the forward pass it runs"),
            (other.module, guarded, "the same evaluation, called with gradients off"),
        ],
    )


_INFERENCE_NAMES = frozenset({"__call__", "predict", "infer", "inference", "detect", "run_inference"})


def _inference_entry(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """The forward runs in the inference method of a predictor class (`Detector.__call__`,
    `Model.predict`, not a module's `forward`) whose own code puts that model in eval mode and
    never trains it: its users call it once per image or request, so the lone forward is the
    inner step of their loop."""
    fn, cls = ep.scope, ep.scope.cls
    if cls is None or fn.simple_name not in _INFERENCE_NAMES or ctx.resolver.is_module_class(cls):
        return False
    if MD.grad_disabled(ctx, ep) or not isinstance(ep.forward.callee, cst.Attribute):
        return False
    held = FL.snippet(ep.forward.module, ep.forward.callee)
    if not held.startswith("self."):
        return False
    switched = any(name == "eval" for name, _, _ in MD.attr_mode_calls(ctx, cls, held))
    calls = [c for m in cls.methods.values() for c in m.calls]
    trains = any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value in ("backward", "step", "train", "zero_grad")
        for c in calls
    )
    return switched and not trains


def _inference_entry_finding(ctx: RuleContext, ep: MD.EvalPass) -> Finding:
    name = FL.snippet(ep.forward.module, ep.forward.callee)
    method = ep.scope.simple_name
    return Finding(
        "TL404",
        ep.forward.module,
        ep.forward.node,
        f"`{method}` runs `{name}` (put in eval mode by this class) with gradients enabled: every call, "
        "once per input its users feed it, records the forward's autograd graph and keeps its activations "
        "for a backward that never comes, which costs memory and time. Wrap the call in `with "
        f"torch.no_grad():` (or `torch.inference_mode()`), or decorate `{method}` with `@torch.no_grad()`.",
        related=MD.path_to_forward(ep),
        fix_builder=fixes.hook(fix_tl404, ctx, None, ep.forward),
    )


def _generates(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """A lone call of a model method that runs the model step after step (an autoregressive
    `model.incremental_forward(x, T=length)`): each step's graph is kept, chained to the last."""
    call = ep.forward.node
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return False
    cls = ep.model.cls
    if not isinstance(cls, ClassFacts) or call.func.attr.value in ("forward", "generate"):
        return False  # (`generate` of a library model turns gradients off itself)
    return _steps_in_a_loop(ctx, cls, call.func.attr.value)


def _steps_in_a_loop(ctx: RuleContext, cls: ClassFacts, name: str) -> bool:
    """The class's method `name` runs the model inside a loop of its own."""
    method = ctx.project.method_of(cls, name)
    if method is None or not isinstance(method.node, cst.FunctionDef):
        return False
    return any(
        isinstance(c, cst.Call) and ctx.loops.computes_with_model(cls, c)
        for loop in walk(method.node.body)
        if isinstance(loop, (cst.For, cst.While))
        for c in walk(loop.body)
    )


def _evaluating_call(ctx: RuleContext, ep: MD.EvalPass, mode: MD.Mode) -> Optional[Tuple[Scope, cst.Call]]:
    """The call that runs a shared epoch function for evaluation, when its eval mode comes from
    its callers and another caller runs it in training mode (`run_epoch(train_data, ...)` after
    `model.train()`, `run_epoch(valid_data, ...)` after `model.eval()`): the gradients belong off
    at that call, not in the function."""
    if not _eval_mode_from_a_caller(ep, mode):
        return None
    modes = [(cs, call, MD.mode_at(ctx, cs, call, ep.model)) for cs, call in ctx.project.callers(ep.scope)]
    if not any(m.mode == "train" for _, _, m in modes):
        return None
    return next(((cs, call) for cs, call, m in modes if m.mode == "eval"), None)


def _eval_mode_of_caller(ep: MD.EvalPass, mode: MD.Mode) -> List[Tuple[ModuleFacts, cst.CSTNode, str]]:
    """The `model.eval()` of a caller, when that is what makes the loop an evaluation (a shared
    `run_epoch` called after `model.eval()`): where the evaluating run starts."""
    if not _eval_mode_from_a_caller(ep, mode) or mode.module is None or mode.node is None:
        return []
    return [(mode.module, mode.node, "the model is put in eval mode here before this code runs")]


def _eval_mode_from_a_caller(ep: MD.EvalPass, mode: MD.Mode) -> bool:
    """The pass is in eval mode because of a `model.eval()` outside its own function."""
    return mode.mode == "eval" and mode.node is not None and SC.order(ep.scope, mode.node) is None


_EVAL_WORDS = re.compile(
    r"(^|_)(eval|evaluate|evaluation|val|valid|validate|validation|test|predict|inference|infer)(_|$)", re.I
)


_GRAD_KINDS = (L.BACKWARD, L.AUTOGRAD_GRAD, L.STEP, L.SCALER_STEP, L.MANUAL_UPDATE)


def fix_tl404(locate: Locate, ctx: "RuleContext", loop: Optional[L.LoopFacts], forward: Event) -> Optional[Fix]:
    """Evaluation without autograd: `@torch.no_grad()` on a function named for evaluation
    that computes no gradient anywhere, else the pass (the loop, or the statement) wrapped in
    `with torch.no_grad():` (with the module's own name for torch)."""
    module = forward.module
    scope = loop.scope if loop is not None else forward.scope
    alias = torch_alias(module)
    if alias is None or forward.via or forward.scope is not scope:
        return None
    if _differentiated(ctx, scope, forward.node):
        return None  # what the pass computes is trained on: without a graph, that backward fails
    fn = scope.node
    if (
        isinstance(fn, cst.FunctionDef)
        and _EVAL_WORDS.search(fn.name.value)
        and not any(e.kind in _GRAD_KINDS for e in ctx.loops.body_events(scope, 0))
    ):
        deco = cst.Decorator(decorator=parse_expression(module, f"{alias}.no_grad()"))
        new_fn = fn.with_changes(decorators=[*fn.decorators, deco])
        return make_fix(module, {fn: new_fn}, SAFE, f"Decorate `{fn.name.value}` with `@{alias}.no_grad()`")
    # The smallest edit first: the forward's own statement (what it returns then carries no
    # graph, so nothing computed from it does either); else the whole loop, which is marked
    # unsafe when it re-indents more than a screenful, to be reviewed.
    line = pass_statement(module, None, forward)
    if isinstance(line, cst.SimpleStatementLine):
        return make_fix(
            module,
            {line: _under(module, f"{alias}.no_grad()", line)},
            SAFE,
            f"Run the forward under `with {alias}.no_grad():`",
        )
    stmt = pass_statement(module, loop, forward)
    if not isinstance(stmt, (cst.BaseCompoundStatement, cst.SimpleStatementLine)):
        return None
    lines = len(module.tree.code_for_node(stmt).strip().splitlines())
    what = "loop" if loop is not None else "pass"
    return make_fix(
        module,
        {stmt: _under(module, f"{alias}.no_grad()", stmt)},
        SAFE if lines <= MAX_SAFE_REINDENT else UNSAFE,
        f"Run the evaluation {what} under `with {alias}.no_grad():`"
        + (f" (re-indents {lines} lines)" if lines > MAX_SAFE_REINDENT else ""),
    )


# A fix that re-indents more lines than this is left for review (`--unsafe-fixes`).
MAX_SAFE_REINDENT = 15


def _under(module: ModuleFacts, context: str, stmt: "cst.SimpleStatementLine | cst.BaseCompoundStatement") -> cst.With:
    """`stmt` moved into `with <context>:`, keeping the comments above it above the block."""
    return cst.With(
        items=[cst.WithItem(item=parse_expression(module, context))],
        body=cst.IndentedBlock(body=[stmt.with_changes(leading_lines=[])]),
        leading_lines=stmt.leading_lines,
    )


def fix_tl404_flag(locate: Locate, forward: Event, flag: str) -> Optional[Fix]:
    """A loop shared by training and evaluation: only its forward statement goes under
    `with torch.set_grad_enabled(flag):`, which changes nothing when the flag is true."""
    module = forward.module
    alias = torch_alias(module)
    if alias is None or forward.via:
        return None
    stmt = pass_statement(module, None, forward)
    if not isinstance(stmt, cst.SimpleStatementLine):
        return None
    block = _under(module, f"{alias}.set_grad_enabled({flag})", stmt)
    return make_fix(module, {stmt: block}, SAFE, f"Run the forward under `with {alias}.set_grad_enabled({flag}):`")


def _differentiated(ctx: "RuleContext", scope: Scope, node: cst.CSTNode, depth: int = 0) -> bool:
    """Whether a backward (in `scope`, or in a caller through what the function returns) is
    called on something computed from `node`: `losses.append(loss_fn(model(x), y))` in a
    function whose result the training loop backpropagates (`loss = evaluate(batch);
    loss.backward()`). The pass then trains too, and no-grad would break that backward."""
    seeds = {id(node)}
    names = DV.derived_names(scope, seeds)
    if any(b.scope is scope and DV.mentions(b.arg, seeds, names) for b in backward_calls(scope.module)):
        return True
    if depth >= 2 or not isinstance(scope.node, cst.FunctionDef):
        return False
    if not any(
        isinstance(n, cst.Return) and n.value is not None and DV.mentions(n.value, seeds, names)
        for n in DV.own_nodes(scope.node)
    ):
        return False
    return any(_differentiated(ctx, caller, call, depth + 1) for caller, call in ctx.project.callers(scope))


def verdict_tl404(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    no_grad = 0
    for p in c.ev.passes.values():
        for pc in p.counts:
            if pc.kind == PassKind.EVAL_GRAD:
                return confirmed(
                    observed=f"`{p.model}` ran {pc.count} pass(es) with no backward whose outputs carried a "
                    "grad_fn (an autograd graph built and thrown away)",
                    expected="evaluation under `torch.no_grad()`",
                    where=c.where(pc.first),
                )
            if pc.kind == PassKind.EVAL_NO_GRAD:
                no_grad += pc.count
    if no_grad:
        return refuted(observed=f"{no_grad} evaluation pass(es) ran with gradients disabled")
    return no_eval_pass(c)


RULE = Rule(
    code="TL404",
    name="eval-without-no-grad",
    family="model",
    severity=INFO,
    summary="An evaluation pass builds an autograd graph it never uses.",
    fixable=True,
    check=eval_without_no_grad,
    fixes=(fix_tl404, fix_tl404_flag),
    verdict=verdict_tl404,
    needs_eval_pass=True,
)
