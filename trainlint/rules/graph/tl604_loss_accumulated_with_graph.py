"""TL604 loss-accumulated-with-graph: A loss tensor is accumulated across iterations with its graph attached."""

from __future__ import annotations

import re
from typing import Dict, Iterator, List, Optional, Set, Tuple, Union

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import flow as FL
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import modes as MD
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.autograd import CUT, CUT_METHODS, LIVE, SHAPE_ATTRS, SHAPE_METHODS, Backward, backward_calls
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.gradmode import no_grad_nodes, scope_disables_grad
from trainlint.analysis.names import dotted, str_key
from trainlint.analysis.project import Project
from trainlint.analysis.purpose import training_loops
from trainlint.analysis.symbols import return_values
from trainlint.analysis.walk import children, walk
from trainlint.diagnostics import Fix
from trainlint.fixes.builders import ATOMS, in_lambda
from trainlint.fixes.core import SAFE, Locate, make_fix, parent_of
from trainlint.fixes.edits import (
    source_of,
    statement_line,
)
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.graph.common import compact_code, evaluator_for


def loss_accumulated_with_graph(ctx: RuleContext) -> Iterator[Finding]:
    yield from _in_evaluation_loops(ctx)
    yield from _added_in_place(ctx)
    # Otherwise only scopes that hold a training loop accumulate a loss that carries a graph.
    training = {id(lf.scope) for lf in training_loops(ctx.loops, ctx.module) if lf.has(L.BACKWARD)}
    if not training:
        return
    no_grad = no_grad_nodes(ctx.module)
    for scope in ctx.module.scopes:
        if id(scope) not in training:
            continue
        idx = D.scope_index(scope)
        backwards = [b for b in backward_calls(ctx.module) if b.scope is scope]
        found = [*_accumulations(scope, idx), *_meter_updates(scope, ctx), *_buffer_writes(scope, idx)]
        for node, acc, inc in found:
            pos = idx.position(node)
            if pos is None or id(node) in no_grad or scope_disables_grad(scope):
                continue
            if not acc.startswith("self.") and (
                not pos.loops or not _initialised_outside(idx, acc, pos.loops[-1], node)
            ):
                continue
            if not _keeps_graph(node, acc, inc, scope, idx, backwards, pos.loops, ctx):
                continue  # `.item()`, `.detach()`, `float()`: no graph is kept
            if (
                _count_beside_the_loss(inc, scope)
                or _consumed_as_a_queue(acc, scope)
                or _per_micro_batch(scope, node, idx, acc)
                or _made_again_each_step(scope, node, idx, acc)
                or _reset_at_each_step(scope, idx, acc, pos.loops, node)
            ):
                # `average_over += loss[1]` with `loss = loss[0]`: a count beside the loss;
                # `outputs.append(out)` ... `outputs.pop(0)`: kept for a later backward (pipeline)
                continue
            if _backwarded(acc, scope, backwards, ctx):
                continue  # summed on purpose to differentiate once (multi-task, accumulation)
            what = compact_code(ctx.module, inc)
            tensor_buffer = _buffer_kind(scope, idx, acc) == "tensor"
            kept, number = _wording(node, acc, what, tensor_buffer)
            terms = _summed_terms(inc, backwards, idx)  # (maybe a tuple of terms: no `.item()` on it)
            yield Finding(
                "TL604",
                ctx.module,
                node,
                f"{kept} `{what}`, "
                + (
                    "the loss terms the differentiated loss sums, which still carry their autograd graph: "
                    if terms
                    else "a tensor that still carries its autograd graph: "
                )
                + "every iteration's graph stays referenced from it, so memory grows step after step. "
                + (
                    f"Keep numbers instead (`.item()` of each term, e.g. `[t.item() for t in {what}]` for a tuple)."
                    if terms
                    else f"Write a copy cut from the graph instead: {number}."
                    if isinstance(node, cst.Assign) and tensor_buffer
                    else f"Keep a number instead: {number} (or `.detach()`)."
                ),
                fix_builder=None if terms else fixes.hook(fix_tl604, ctx.project, ctx.module, scope, node, acc, inc),
            )


# A counted loop over the parts of one update: micro-batches, PPO epochs over one rollout.
_PARTS_OF_ONE_STEP = re.compile(r"accum|micro|ppo|grpo|backward_batch|mini_?batch|inner", re.IGNORECASE)


def _per_micro_batch(scope: Scope, node: cst.CSTNode, idx: D.ScopeIndex, acc: str) -> bool:
    """The loop around the accumulation counts the parts of one optimizer step (`for _ in
    range(neox_args.gradient_accumulation_steps)`, `for _ in range(self._ppo_epochs)`), and the
    list is made again for each step (in the loop around it, or with the function's frame): it
    holds one step's losses, not the run's."""
    loops = _loops_around(scope, node)
    if not loops or not isinstance(loops[-1], cst.For):
        return False
    it = loops[-1].iter
    if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range"):
        return False
    if not _PARTS_OF_ONE_STEP.search(scope.module.tree.code_for_node(it)):
        return False
    if len(loops) == 1:
        return True
    outer = id(loops[-2])
    return any(d.how == "assign" and d.loops and d.loops[-1] == outer for d in idx.defs.get(acc, []))


def _made_again_each_step(scope: Scope, node: cst.CSTNode, idx: D.ScopeIndex, acc: str) -> bool:
    """`outputs = []` at the top of each step, the micro-batches of the step appended to it in an
    inner loop, and the optimizer stepped in the same step after it (a trainer that hands one
    step's outputs to its callbacks): the list holds one step's outputs, let go at the next."""
    loops = _loops_around(scope, node)
    if not isinstance(node, cst.Call) or len(loops) < 2:
        return False  # (a running sum, `total += loss`, is still better kept as a number)
    outer, inner = loops[-2], loops[-1]
    made = any(
        d.how == "assign" and d.loops and d.loops[-1] == id(outer) and _is_reset(d.value) for d in idx.defs.get(acc, [])
    )
    # (one step per iteration of the outer loop: after the inner loop, none inside it)
    return made and _steps_an_optimizer(scope, outer) and not _steps_an_optimizer(scope, inner)


def _loops_around(scope: Scope, node: cst.CSTNode) -> List[Union[cst.For, cst.While]]:
    """The `for`/`while` statements around a node, outermost first."""
    return [n for n in SC.enclosing(scope, node) if isinstance(n, (cst.For, cst.While))]


def _reset_at_each_step(scope: Scope, idx: D.ScopeIndex, acc: str, loops: Tuple[int, ...], node: cst.CSTNode) -> bool:
    """`running_loss = 0` inside the loop, where the optimizer steps (`if (i + 1) % accum == 0:
    ... optimizer.step(); ...; running_loss = 0`): the sum spans one step's micro-batches, each
    already differentiated, and is let go at the step."""
    if not loops:
        return False
    for d in idx.defs.get(acc, []):
        if d.how != "assign" or d.stmt is node or not d.loops or d.loops[-1] != loops[-1]:
            continue
        if not _is_reset(d.value):
            continue
        inside = [n for n in SC.enclosing(scope, d.stmt) if isinstance(n, cst.If) and id(n) not in loops]
        if any(_steps_an_optimizer(scope, n) for n in inside):
            return True
    return False


def _is_reset(value: cst.BaseExpression) -> bool:
    """`0`, `0.0`, `None`, `[]`, `torch.zeros(...)`: a fresh start, not a running value."""
    if isinstance(value, (cst.Integer, cst.Float)) or (isinstance(value, cst.Name) and value.value == "None"):
        return True
    if isinstance(value, (cst.List, cst.Dict)) and not value.elements:
        return True
    return isinstance(value, cst.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] in ("zeros", "zeros_like")


_OPTIMIZER_RECEIVER = re.compile(r"optim|\bopt\b|scaler", re.IGNORECASE)


def _steps_an_optimizer(scope: Scope, block: Union[cst.If, cst.For, cst.While]) -> bool:
    for n in walk(block.body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "step":
            if _OPTIMIZER_RECEIVER.search(scope.module.tree.code_for_node(n.func.value)):
                return True
    return False


def _joined_into_a_tensor(acc: str, scope: Scope) -> bool:
    """The list is concatenated or stacked into one tensor in the function (`torch.cat(mel_outputs,
    dim=2)`): it gathers the pass's result, not a running metric, so a number is no way to keep it."""
    text = scope.module.tree.code_for_node(scope.node)
    return re.search(rf"\b(?:cat|stack|concat|concatenate|hstack|vstack)\(\s*{re.escape(acc)}\b", text) is not None


def _consumed_as_a_queue(acc: str, scope: Scope) -> bool:
    """The list is also popped in the function (`output_tensors.pop(0)` of a pipeline
    schedule): entries wait there for their backward, they do not pile up."""
    text = scope.module.tree.code_for_node(scope.node)
    return re.search(rf"\b{re.escape(acc)}(?:\[[^\]]*\])?\.pop\(", text) is not None


def _count_beside_the_loss(inc: cst.BaseExpression, scope: Scope) -> bool:
    """`loss[1]` of a `(loss, count)` pair whose loss the code takes as `loss[0]` (`loss =
    loss[0]`, `loss[0].backward()`): the other entries are what comes beside the loss (a token
    count), not the loss."""
    if not (isinstance(inc, cst.Subscript) and isinstance(inc.value, cst.Name) and len(inc.slice) == 1):
        return False
    index = inc.slice[0].slice
    if not (isinstance(index, cst.Index) and isinstance(index.value, cst.Integer)) or index.value.value == "0":
        return False
    name = inc.value.value
    first = rf"\b{re.escape(name)}\[0\]"
    text = scope.module.tree.code_for_node(scope.node)
    return bool(re.search(rf"\b{re.escape(name)}\s*=\s*{first}|{first}\.backward\(", text))


def _added_in_place(ctx: RuleContext) -> Iterator[Finding]:
    """`stats.device_stat("loss").add_(loss)` beside `loss.backward()`: a tensor that outlives
    the call (not a name made in it) takes the differentiated loss in place, and becomes part
    of every step's graph from then on."""
    no_grad = no_grad_nodes(ctx.module)
    reported: Set[int] = set()
    for b in backward_calls(ctx.module):
        if not isinstance(b.arg, cst.Name) or scope_disables_grad(b.scope):
            continue
        loss = b.arg.value
        for call in b.scope.calls:
            func = call.func
            if (
                id(call) not in reported
                and isinstance(func, cst.Attribute)
                and func.attr.value == "add_"
                and len(call.args) == 1
                and isinstance(call.args[0].value, cst.Name)
                and call.args[0].value.value == loss
                and id(call) not in no_grad
                and not _made_here(func.value, b.scope)
            ):
                reported.add(id(call))
                acc = compact_code(ctx.module, func.value)
                yield Finding(
                    "TL604",
                    ctx.module,
                    call,
                    f"`{acc}` takes `{loss}`, the loss this function differentiates, in place: adding a tensor "
                    "that carries a graph makes the running total part of that graph, and every later step "
                    f"chains onto it, so each iteration's graph stays referenced and memory grows step after "
                    f"step. Add a number instead: `{acc}.add_({loss}.item())` (or `{loss}.detach()`).",
                    related=[(ctx.module, b.node, "the backward of that loss")],
                )


def _made_here(recv: cst.BaseExpression, scope: Scope) -> bool:
    """The receiver is a name bound in the function (a fresh per-call tensor), not an object
    that outlives it (an attribute, a parameter, a global, what a call hands back)."""
    return isinstance(recv, cst.Name) and recv.value in scope.bindings


def _in_evaluation_loops(ctx: RuleContext) -> Iterator[Finding]:
    """An evaluation loop run with gradients enabled (what TL404 reports) that sums the
    model's outputs, or a loss of them, across batches: every batch's graph stays referenced."""
    for ep in MD.eval_passes(ctx):
        lf = ep.loop
        if lf is None or ep.flag is not None or ep.forward.via or lf.scope.module is not ctx.module:
            continue
        if MD.grad_disabled(ctx, ep) or lf.has(L.BACKWARD):
            continue
        mode = MD.mode_at(ctx, ep.scope, MD.event_anchor(ep.forward), ep.model)
        if mode.mode != "eval" and (not MD.eval_named(ctx, ep) or not MD.has_weights(ctx, ep.model)):
            continue  # (the conditions under which TL404 says this pass evaluates)
        scope = lf.scope
        idx = D.scope_index(scope)
        for node, acc, inc in _accumulations(scope, idx):
            pos = idx.position(node)
            if pos is None or id(lf.node) not in pos.loops or not pos.loops:
                continue
            if not acc.startswith("self.") and not _initialised_outside(idx, acc, pos.loops[-1], node):
                continue
            outputs = {n for n in _names_in(inc) if _from_forward(n, ep.forward.node, scope, idx, node, ctx)}
            if not outputs or not _bare_ref(inc, outputs):
                continue
            if evaluator_for(ctx).state(inc, scope).kind != LIVE:
                continue  # a number the forward also returns (`ratio = out.size(0) / n`)
            if _joined_into_a_tensor(acc, scope):
                continue  # outputs gathered into a result (decoded frames): TL404's no-grad is the fix
            what = compact_code(ctx.module, inc)
            tensor_buffer = _buffer_kind(scope, idx, acc) == "tensor"
            kept, number = _wording(node, acc, what, tensor_buffer)
            yield Finding(
                "TL604",
                ctx.module,
                node,
                f"{kept} `{what}`, computed from `{FL.snippet(ctx.module, ep.forward.node)}` in an evaluation "
                "loop that runs with gradients enabled: it carries the batch's autograd graph, and every "
                f"batch's graph stays referenced from `{acc}`, so memory grows batch after batch. Keep a "
                f"number instead: {number} (and run the loop under `torch.no_grad()`).",
                fix_builder=fixes.hook(fix_tl604, ctx.project, ctx.module, scope, node, acc, inc),
            )


def _from_forward(
    name: str, forward: cst.CSTNode, scope: Scope, idx: D.ScopeIndex, use: cst.CSTNode, ctx: RuleContext
) -> bool:
    """Every definition of `name` reaching `use` is the forward's output (`out = model(x)`,
    `kld, nll = model(x)`) or a loss computed on it (`loss = crit(model(x), y)`)."""
    defs, open_before = idx.reaching(name, use)
    if not defs or open_before:
        return False
    for d in defs:
        part = d.value.value if isinstance(d.value, (cst.Subscript, cst.Attribute)) else None
        if d.how == "assign" and not d.path and isinstance(part, cst.Name) and (d.stmt or d.value) is not use:
            # `out = out[1]` (an Inception model's main logits), `out = out.logits`: a part of it
            if _from_forward(part.value, forward, scope, idx, d.stmt or d.value, ctx):
                continue
            return False
        if d.how != "assign" or not isinstance(d.value, cst.Call):
            return False
        if d.value is forward:
            continue
        if d.path or not _is_loss_output(name, scope, idx, use, ctx):
            return False
        if not any(forward is n for n in walk(d.value)) and not any(
            _from_forward(n, forward, scope, idx, d.stmt or d.value, ctx) for n in _names_in(d.value) if n != name
        ):
            return False
    return True


def _keeps_graph(
    node: cst.CSTNode,
    acc: str,
    inc: cst.BaseExpression,
    scope: Scope,
    idx: D.ScopeIndex,
    backwards: List[Backward],
    loops: Tuple[int, ...],
    ctx: RuleContext,
) -> bool:
    """The added value is a loss that still carries its graph."""
    if isinstance(node, cst.Call) and loops and _history_differentiated(acc, idx, backwards, loops[-1]):
        return True  # `losses.append(total)`, then `losses[-1].backward()`: the entry is the loss
    if isinstance(inc, cst.Call) and isinstance(ctx.project.resolve_callee(inc.func, scope), Scope):
        # A project function's result is what it returns, not its arguments.
        return _returned_loss(inc, scope, loops, ctx)
    if _returned_entry(inc, scope, idx, loops, ctx, node):
        return True
    carrying = _graph_carrying(_names_in(inc), scope, idx, backwards, loops, ctx, node)
    return bool(carrying) and _bare_ref(inc, carrying)


def _returned_entry(
    inc: cst.BaseExpression,
    scope: Scope,
    idx: D.ScopeIndex,
    loops: Tuple[int, ...],
    ctx: RuleContext,
    node: cst.CSTNode,
) -> bool:
    """`metrics = trainer.train_on_batch(x, y)`, then `history.append(metrics["loss"])`: the
    entry of the dict the helper returns that holds the loss it differentiated."""
    if not isinstance(inc, cst.Subscript) or not isinstance(inc.value, cst.Name):
        return False
    text = str_key(inc)
    if text is None or not loops or not _in_training_loop(ctx, scope, (loops[-1],)):
        return False
    returned = _calls_returning_their_loss(scope, loops[-1], ctx)
    defs, _ = idx.reaching(inc.value.value, node)
    return bool(defs) and all(
        d.how == "assign" and not d.path and text in (returned.get(id(d.value)) or ()) for d in defs
    )


def _history_differentiated(acc: str, idx: D.ScopeIndex, backwards: List[Backward], loop: int) -> bool:
    """The same iteration calls `backward()` on the newest entry of the list `acc`."""
    for b in backwards:
        pos = idx.position(b.node)
        if pos is not None and loop in pos.loops and _newest_entry(b.arg, acc):
            return True
    return False


def _accumulations(scope: Scope, idx: D.ScopeIndex) -> Iterator[Tuple[cst.CSTNode, str, cst.BaseExpression]]:
    """`acc += x`, `acc = acc + x` and `acc.append(x)` statements of a scope."""
    for name, defs in idx.defs.items():
        for d in defs:
            if d.path:
                continue
            if d.how == "aug" and isinstance(d.op, cst.AddAssign):
                yield d.stmt, name, d.value
            elif (
                d.how == "assign" and isinstance(d.value, cst.BinaryOperation) and isinstance(d.value.operator, cst.Add)
            ):
                left, right = d.value.left, d.value.right
                if _is_ref(left, name):
                    yield d.stmt, name, right
                elif _is_ref(right, name):
                    yield d.stmt, name, left
    for call in scope.calls:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "append" and len(call.args) == 1:
            key = dotted(func.value)
            if key is not None and (key.count(".") == 0 or (key.startswith("self.") and key.count(".") == 1)):
                yield call, key, call.args[0].value


# Tensors made before a loop to receive one value per slot (`losses[i] = loss`).
_BUFFERS = frozenset(
    f"torch.{f}" for f in ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like")
)


def _buffer_writes(scope: Scope, idx: D.ScopeIndex) -> Iterator[Tuple[cst.CSTNode, str, cst.BaseExpression]]:
    """`buf[i] = x` into a tensor made by `torch.zeros(...)`: the write is an autograd operation,
    so a graph-carrying `x` makes the buffer part of that graph, and each later write extends it."""
    if "[" not in scope.module.text:
        return
    buffers = {name: kind for name in idx.defs if (kind := _buffer_kind(scope, idx, name)) is not None}
    if not buffers:
        return  # (no tensor or dict made here to receive values: nothing to walk for)
    for node in walk(scope.node):
        if not isinstance(node, cst.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0].target
        if not isinstance(target, cst.Subscript):
            continue
        key = dotted(target.value)
        kind = buffers.get(key) if key is not None else None
        if key is None or kind is None:
            continue
        if kind == "dict" and any(
            isinstance(el.slice, cst.Index) and isinstance(el.slice.value, (cst.SimpleString, cst.Integer))
            for el in target.slice
        ):
            continue  # `logs["loss"] = loss`: one entry, overwritten each step (no growth)
        yield node, key, node.value


def _buffer_kind(scope: Scope, idx: D.ScopeIndex, key: str) -> Optional[str]:
    """ "tensor" for `torch.zeros(...)`, "dict" for `{}` / `dict()`: what `key` was made as."""
    kinds = set()
    for d in idx.defs.get(key, []):
        if d.how != "assign":
            return None
        v = d.value
        if isinstance(v, cst.Call) and scope.module.qualify(v.func) in _BUFFERS:
            kinds.add("tensor")
        elif (isinstance(v, cst.Dict) and not v.elements) or (
            isinstance(v, cst.Call) and dotted(v.func) == "dict" and not v.args
        ):
            kinds.add("dict")
        else:
            return None
    return kinds.pop() if len(kinds) == 1 else None


def _wording(node: cst.CSTNode, acc: str, what: str, tensor_buffer: bool = True) -> Tuple[str, str]:
    """(how `acc` keeps `what`, how to keep a number instead) for `acc += x`, `acc.append(x)`,
    `acc[i] = x` and `meter.update(x)`."""
    if isinstance(node, cst.Assign) and not tensor_buffer:
        return f"`{acc}` keeps, one entry per step,", f"`{acc}[...] = {what}.item()`"
    if isinstance(node, cst.Assign):
        return (
            f"writing into the tensor `{acc}` (made before the loop) makes it part of the graph of",
            f"`{acc}[...] = {what}.detach()`",
        )
    if not isinstance(node, cst.Call):
        return f"`{acc}` accumulates", f"`{acc} += {what}.item()`"
    method = node.func.attr.value if isinstance(node.func, cst.Attribute) else "append"
    if method == "append":
        return f"`{acc}` collects", f"`{acc}.append({what}.item())`"
    if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Subscript):
        acc = cst.Module([]).code_for_node(node.func.value)  # (a meter of a dict: `metrics[k]`)
    return f"`{acc}.{method}(...)` keeps a running sum of", f"pass `{what}.item()`"


def _meter_updates(scope: Scope, ctx: RuleContext) -> Iterator[Tuple[cst.CSTNode, str, cst.BaseExpression]]:
    """`meter.update(loss, n)` where the project method adds that argument to a running total
    of the object (`self.sum += val * n`): the meter keeps what it is given."""
    for call in scope.calls:
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value == "append":
            continue
        key: Optional[str]
        callee: Union[Scope, ClassFacts, None]
        if isinstance(func.value, cst.Subscript) and isinstance(func.value.value, cst.Name):
            # `metrics[k].update(v, n)`: a dict of meters, each built by the same project class
            key = func.value.value.value
            callee = _method_of_elements(ctx, scope, key, func.attr.value)
        else:
            key = dotted(func.value)
            if key is None or key.count(".") > 1 or (key.count(".") == 1 and not key.startswith("self.")):
                continue
            callee = ctx.project.resolve_callee(func, scope)
        if not isinstance(callee, Scope) or callee.cls is None:
            continue
        for name in _summed_into_self(callee):
            arg = C.bind(call, callee, name, True)
            if arg is not None:
                yield call, key, arg


def _method_of_elements(ctx: RuleContext, scope: Scope, name: str, method: str) -> Optional[Scope]:
    """`metrics = OrderedDict([(k, AverageMeter(k)) for k in names])`: the method `method` of
    the one project class whose instances the container `name` is built from."""
    defs = D.scope_index(scope).defs.get(name, [])
    if len(defs) != 1 or defs[0].how != "assign":
        return None
    classes = {
        id(c): c
        for call in walk(defs[0].value)
        if isinstance(call, cst.Call)
        for c in [ctx.project.resolve_callee(call.func, scope)]
        if isinstance(c, ClassFacts)
    }
    if len(classes) != 1:
        return None
    return next(iter(classes.values())).methods.get(method)


def _summed_into_self(fn: Scope) -> List[str]:
    """Parameters of a method that it adds as they are to an attribute of the object
    (`self.sum += val`, `self.sum += val * n`, `self.total[i] += v`)."""
    # (a parameter the method rebinds first, `v = v.data.sum()`, is not what it sums)
    rebound = D.scope_index(fn).defs
    params = {p for p in fn.params[1:] if p not in rebound}
    out: List[str] = []
    for node in walk(fn.node.body if isinstance(fn.node, cst.FunctionDef) else fn.node):
        if not isinstance(node, cst.AugAssign) or not isinstance(node.operator, cst.AddAssign):
            continue
        target = node.target.value if isinstance(node.target, cst.Subscript) else node.target
        d = dotted(target)
        if d is None or not d.startswith("self."):
            continue
        used = [n for n in _names_in(node.value) if n in params]
        if used and _bare_ref(node.value, set(used)):
            out.extend(n for n in used if n not in out)
    return out


def _is_ref(expr: cst.BaseExpression, key: str) -> bool:
    return dotted(expr) == key


def _initialised_outside(idx: D.ScopeIndex, acc: str, loop_id: int, node: cst.CSTNode) -> bool:
    """The accumulator is set up before the innermost loop around the accumulation."""
    for d in idx.defs.get(acc, []):
        if d.how == "assign" and d.stmt is not node and loop_id not in d.loops:
            return True
    return False


def _names_in(expr: cst.BaseExpression) -> List[str]:
    """Names (and `self.x`, `self.x.y` attributes) an expression reads."""
    # (`self.config.accum_steps` in a backward is a setting, not `self.config` on the graph:
    # reading `self.config.batch_size` elsewhere must not count as reading the loss)
    out: List[str] = []
    stack: List[cst.CSTNode] = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.append(n.value)
            continue
        if isinstance(n, cst.Attribute):
            d = dotted(n)
            if d is not None and d.startswith("self."):
                out.append(d)
                continue
            stack.append(n.value)  # not the attribute's own name
            continue
        stack.extend(children(n))
    return out


def _graph_carrying(
    names: List[str],
    scope: Scope,
    idx: D.ScopeIndex,
    backwards: List[Backward],
    loops: Tuple[int, ...],
    ctx: RuleContext,
    node: cst.CSTNode,
) -> Set[str]:
    """Those of `names` that hold the very loss this loop differentiates, or a loss output."""
    out: Set[str] = set()
    if not loops:
        return out
    inner = loops[-1]  # the same iteration as the accumulation, not just a shared epoch loop
    for b in backwards:
        bpos = idx.position(b.node)
        if bpos is None or (inner not in bpos.loops and not (bpos.loops and bpos.loops[-1] in loops)):
            continue  # (a loop inside the backward's iteration, `for k in loss_dict:`, is that iteration)
        out.update(
            n
            for n in names
            if n in _names_in(b.arg) and not _plain_number(n, scope, idx, node) and not _rebound_after(n, b, idx, node)
        )
        out.update(n for n in names if _aggregated_into(n, b, idx) or _entry_differentiated(n, b, idx))
    out.update(n for n in names if n in _backwarded_by_helpers(scope, inner, ctx))
    if _in_training_loop(ctx, scope, (inner,)):
        out.update(n for n in names if _is_loss_output(n, scope, idx, node, ctx))
        helpers = _calls_returning_their_loss(scope, inner, ctx)
        if helpers:
            out.update(n for n in names if _comes_from(n, helpers, idx, node))
    return {n for n in out if not _cut_where_used(n, scope, idx, node, ctx) and not _cut_in_place(n, scope, node, ctx)}


def _rebound_after(name: str, b: Backward, idx: D.ScopeIndex, use: cst.CSTNode) -> bool:
    """Every definition of `name` reaching `use` comes after the backward, from a value that
    does not mention the differentiated names (`(planner_loss, controller_loss) =
    metrics.get_stats()` after `(planner_loss + controller_loss).backward()`): the name now holds
    something else."""
    bpos = idx.position(b.node)
    defs, open_before = idx.reaching(name, use)
    if bpos is None or open_before or not defs:
        return False
    differentiated = set(_names_in(b.arg))
    return all(d.order > bpos.order and not (set(_names_in(d.value)) & differentiated) for d in defs)


def _plain_number(name: str, scope: Scope, idx: D.ScopeIndex, use: cst.CSTNode) -> bool:
    """A name that only ever holds a number literal (`grad_accum_every = 4`, or a parameter
    with such a default that nothing rebinds), however the backward divides by it."""
    defs, open_before = idx.reaching(name, use)
    if name in scope.params and not defs:
        default = scope.param_nodes[scope.params.index(name)].default
        return D.number(default) is not None
    return bool(defs) and not open_before and all(d.how == "assign" and D.number(d.value) is not None for d in defs)


def _aggregated_into(name: str, b: Backward, idx: D.ScopeIndex) -> bool:
    """The differentiated loss is `name` itself or its sum, by every definition reaching the
    backward (`loss = sum(losses) if isinstance(losses, tuple) else losses`): `name` holds
    the loss terms, graph and all."""
    if not isinstance(b.arg, cst.Name):
        return False
    defs, open_before = idx.reaching(b.arg.value, b.node)
    return (
        bool(defs)
        and not open_before
        and all(d.how == "assign" and not d.path and _sum_of(d.value, name) for d in defs)
    )


def _entry_differentiated(name: str, b: Backward, idx: D.ScopeIndex) -> bool:
    """The differentiated loss is an entry of `name` (`loss = loss_dict["loss"]`, then
    `scaler.scale(loss).backward()`): `name` is a dict of loss terms, graph and all."""
    for n in set(_names_in(b.arg)):
        for d in idx.defs.get(n, []):
            v = d.value
            while isinstance(v, cst.BinaryOperation):
                v = v.left  # (`batch_outputs["loss"] / len(batch_group)`)
            if (
                d.how == "assign"
                and not d.path
                and isinstance(v, cst.Subscript)
                and isinstance(v.value, cst.Name)
                and v.value.value == name
                and (_string_keyed(v) or M.int_index(v) is not None)
            ):
                return True
    return False


def _summed_terms(inc: cst.BaseExpression, backwards: List[Backward], idx: D.ScopeIndex) -> bool:
    """`inc` is a name that a differentiated loss is the `sum()` of (a collection of terms)."""
    return isinstance(inc, cst.Name) and any(
        _aggregated_into(inc.value, b, idx) and not (isinstance(b.arg, cst.Name) and b.arg.value == inc.value)
        for b in backwards
    )


def _sum_of(expr: cst.BaseExpression, name: str) -> bool:
    """`name`, `sum(name)`, `name.sum()`, `torch.stack(name).sum()`, or either arm of an `if`."""
    if isinstance(expr, cst.IfExp):
        return _sum_of(expr.body, name) and _sum_of(expr.orelse, name)
    if isinstance(expr, cst.Name):
        return expr.value == name
    if isinstance(expr, cst.Call) and expr.args:
        func = expr.func
        if isinstance(func, cst.Name) and func.value == "sum":
            return _sum_of(expr.args[0].value, name)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("sum", "mean"):
        inner = expr.func.value
        if isinstance(inner, cst.Call) and dotted(inner.func) in ("torch.stack", "torch.cat") and inner.args:
            inner = inner.args[0].value
        return _sum_of(inner, name)
    return False


def _cut_in_place(name: str, scope: Scope, use: cst.CSTNode, ctx: RuleContext) -> bool:
    """`out["loss"] = out["loss"].detach()` before `outputs.append(out)`: the graph-carrying
    entry of a dict was replaced by a cut copy."""
    ev = evaluator_for(ctx)
    return any(
        b.stmt is not None and SC.follows(scope, b.stmt, use) and ev.state(b.value, scope).kind == CUT
        for b in scope.stores.get(name, [])
    )


def _cut_where_used(name: str, scope: Scope, idx: D.ScopeIndex, use: cst.CSTNode, ctx: RuleContext) -> bool:
    """Every definition reaching the use leaves no graph (`loss = loss.detach().item()` after
    its backward, or a plain number on the other path)."""
    defs, open_before = idx.reaching(name, use)
    if not defs or open_before:
        return False
    ev = evaluator_for(ctx)
    return all(d.how == "assign" and not d.path and ev.state(d.value, scope).kind != LIVE for d in defs)


def _bare_ref(expr: cst.BaseExpression, names: Set[str]) -> bool:
    """`expr` uses one of `names` as a tensor (not through `.item()`, `.detach()`, `float()`...)."""
    if isinstance(expr, cst.Name):
        return expr.value in names
    if isinstance(expr, cst.Attribute):
        if expr.attr.value == "data" or expr.attr.value in SHAPE_ATTRS:
            return False  # (`.shape`, `.dtype`: about the tensor, not on its graph)
        d = dotted(expr)
        if d is not None and d in names:
            return True
        return _bare_ref(expr.value, names)
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Name) and func.value in ("float", "int", "len", "str", "round"):
            return False
        if isinstance(func, cst.Attribute):
            if func.attr.value in CUT_METHODS or func.attr.value in SHAPE_METHODS:
                return False  # (`losses.numel()` is a Python int)
            if _bare_ref(func.value, names):
                return True
        return any(_bare_ref(a.value, names) for a in expr.args)
    if isinstance(expr, cst.BinaryOperation):
        return _bare_ref(expr.left, names) or _bare_ref(expr.right, names)
    if isinstance(expr, cst.UnaryOperation):
        return _bare_ref(expr.expression, names)
    if isinstance(expr, cst.Subscript):
        return _bare_ref(expr.value, names)
    if isinstance(expr, cst.IfExp):
        return _bare_ref(expr.body, names) or _bare_ref(expr.orelse, names)
    if isinstance(expr, (cst.Tuple, cst.List)):
        return any(_bare_ref(e.value, names) for e in expr.elements)
    return False


def _is_loss_output(name: str, scope: Scope, idx: D.ScopeIndex, use: cst.CSTNode, ctx: RuleContext) -> bool:
    defs, _ = idx.reaching(name, use)
    if not defs:
        return False
    for d in defs:
        if d.how != "assign" or d.path or not isinstance(d.value, cst.Call):
            return False
        call = d.value
        qual = scope.module.qualify(call.func)
        if K.is_functional_loss(qual):
            continue
        if isinstance(call.func, (cst.Name, cst.Attribute)):
            v = ctx.resolver.value_of(call.func, scope)
            if v is not None and v.kind == K.LOSS:
                continue
        return False
    return True


# For each call: None when the whole result is the loss, else the tuple positions (or the
# string keys of a returned dict) that are.
_Returned = Dict[int, Optional[Set[Union[int, str]]]]


def _calls_returning_their_loss(scope: Scope, loop: int, ctx: RuleContext) -> _Returned:
    """The calls in the loop `loop` of `scope` to a project function that calls `backward()`
    on a loss and returns it (`losses = trainer.train_step(batch)`), not a number made from it."""
    out: _Returned = {}
    for e, arg in _helper_backwards(scope, loop, ctx):
        target = set(_names_in(arg)) | _scaled_losses(arg, e)
        for rv in D.return_values(e.scope):
            if isinstance(rv, cst.Tuple):
                at: Set[Union[int, str]] = {i for i, el in enumerate(rv.elements) if _bare_ref(el.value, target)}
                if at:
                    out[id(e.via[0][1])] = at
            elif isinstance(rv, cst.Dict):
                # `return {"loss": loss, "acc": acc}`: the entries that hold the loss
                keys = {
                    el.key.evaluated_value
                    for el in rv.elements
                    if isinstance(el, cst.DictElement)
                    and isinstance(el.key, cst.SimpleString)
                    and isinstance(el.key.evaluated_value, str)
                    and _bare_ref(el.value, target)
                }
                if keys:
                    out[id(e.via[0][1])] = set(keys)
            elif _bare_ref(rv, target):
                out[id(e.via[0][1])] = None
    return out


def _scaled_losses(arg: cst.BaseExpression, e: L.Event) -> Set[str]:
    """The loss that the differentiated name is made from by scaling (`scaled = loss /
    accumulation_steps; scaled.backward(); return loss`): it carries the same graph. Only a
    name that says it is a loss, divided or multiplied by something else."""
    if not isinstance(arg, cst.Name):
        return set()
    idx = D.scope_index(e.scope)
    defs, open_before = idx.reaching(arg.value, e.node)
    if len(defs) != 1 or open_before or defs[0].how != "assign":
        return set()
    value = defs[0].value
    if not isinstance(value, cst.BinaryOperation) or not isinstance(value.operator, (cst.Divide, cst.Multiply)):
        return set()
    return {
        side.value
        for side in (value.left, value.right)
        if isinstance(side, cst.Name) and "loss" in side.value.lower() and side.value != arg.value
    }


def _helper_backwards(scope: Scope, loop: int, ctx: RuleContext) -> Iterator[Tuple[L.Event, cst.BaseExpression]]:
    """The `backward()` calls, with their argument, of the helpers that the loop `loop` of
    `scope` calls directly."""
    for lf in ctx.loops.loops_of(scope.module):
        if id(lf.node) != loop:
            continue
        for e in lf.events:
            if e.kind == L.BACKWARD and len(e.via) == 1 and e.via[0][0] is scope and e.arg is not None:
                yield e, e.arg


def _returned_loss(inc: cst.BaseExpression, scope: Scope, loops: Tuple[int, ...], ctx: RuleContext) -> bool:
    """`total += self.backward_step(loss)`: the increment is the call of a helper that
    differentiates a loss and returns it whole."""
    if not isinstance(inc, cst.Call) or not loops or not _in_training_loop(ctx, scope, (loops[-1],)):
        return False
    returned = _calls_returning_their_loss(scope, loops[-1], ctx)
    return id(inc) in returned and returned[id(inc)] is None


def _backwarded_by_helpers(scope: Scope, loop: int, ctx: RuleContext) -> Set[str]:
    """Names of `scope` passed, in the loop `loop`, to a helper that calls `backward()` on
    that parameter (`self._backward(loss, opt)`)."""
    out: Set[str] = set()
    for e, backwarded in _helper_backwards(scope, loop, ctx):
        call = e.via[0][1]
        for name in _names_in(backwarded):
            if name not in e.scope.params or not isinstance(call, cst.Call):
                continue
            arg = C.bind(call, e.scope, name, isinstance(call.func, cst.Attribute))
            if isinstance(arg, cst.Name):
                out.add(arg.value)
    return out


def _comes_from(name: str, calls: _Returned, idx: D.ScopeIndex, use: cst.CSTNode, hops: int = 3) -> bool:
    """Every definition of `name` reaching `use` is the loss one of `calls` returned,
    unpacked or aliased (`a, b, total = losses`)."""
    defs, _ = idx.reaching(name, use)
    if not defs:
        return False
    for d in defs:
        if d.how != "assign":
            return False
        if id(d.value) in calls:
            at = calls[id(d.value)]
            if at is None or (d.path and d.path[0] in at):
                continue
            return False
        if hops and isinstance(d.value, cst.Name) and _comes_from(d.value.value, calls, idx, d.stmt, hops - 1):
            continue  # an alias of the result, or an unpacking of a returned loss structure
        return False
    return True


def _in_training_loop(ctx: RuleContext, scope: Scope, loops: Tuple[int, ...]) -> bool:
    for lf in ctx.loops.loops_of(scope.module):
        if id(lf.node) in loops and lf.has(L.BACKWARD):
            return True
    return False


def _backwarded(acc: str, scope: Scope, backwards: List[Backward], ctx: RuleContext) -> bool:
    """The accumulated total is itself differentiated (here, or by a caller it is returned to)."""
    for b in backwards:
        if _newest_entry(b.arg, acc):
            continue  # `history[-1].backward()`: one entry is differentiated, the others are kept
        if acc in _names_in(b.arg) or _derived_from(acc, b, ctx):
            return True
    for rv in D.return_values(scope):
        if acc in _names_in(rv):
            for caller, call in ctx.project.callers(scope):
                for cb in backward_calls(caller.module):
                    if cb.scope is caller and (
                        _mentions_node(cb.arg, call) or _bound_name_backwarded(call, caller, cb)
                    ):
                        return True
    return False


def _newest_entry(arg: Optional[cst.BaseExpression], acc: str) -> bool:
    return (
        isinstance(arg, cst.Subscript)
        and _is_ref(arg.value, acc)
        and len(arg.slice) == 1
        and isinstance(arg.slice[0].slice, cst.Index)
        and isinstance(arg.slice[0].slice.value, (cst.UnaryOperation, cst.Integer))
    )


def _derived_from(acc: str, b: Backward, ctx: RuleContext) -> bool:
    """`loss = total / n; loss.backward()`: the backward target is built from the total."""
    idx = D.scope_index(b.scope)
    frontier = _names_in(b.arg)
    seen: Set[str] = set()
    while frontier:
        n = frontier.pop()
        if n in seen:
            continue
        seen.add(n)
        if n == acc:
            return True
        defs, _ = idx.reaching(n, b.node)
        for d in defs:
            frontier.extend(_names_in(d.value))
        if len(seen) > 40:
            break
    return False


def _mentions_node(expr: cst.CSTNode, target: cst.CSTNode) -> bool:
    return any(n is target for n in walk(expr))


def _bound_name_backwarded(call: cst.Call, caller: Scope, cb: Backward) -> bool:
    idx = D.scope_index(caller)
    for name in _names_in(cb.arg):
        defs, _ = idx.reaching(name, cb.node)
        if any(d.value is call or _mentions_node(d.value, call) for d in defs):
            return True
    return False


_NUMERIC_CONSUMERS = {"print", "float", "int", "round", "str", "format", "abs", "min", "max"}


def fix_tl604(
    locate: Locate,
    project: Project,
    module: ModuleFacts,
    scope: Scope,
    node: cst.CSTNode,
    acc: str,
    inc: cst.BaseExpression,
) -> Optional[Fix]:
    """Accumulate a number, not the graph: `total += loss.item()` when the total is a local
    number that is only printed or computed with and `loss` is the scalar that was
    backpropagated; otherwise `.detach()`, which keeps the total a tensor."""
    if in_lambda(module, node) or statement_line(module, node) is None:
        return None
    if _maybe_not_tensor(project, scope, inc, node, 2):
        return None  # `.detach()` on an int or a dict would crash the path where it is one
    method = "item" if _item_is_safe(module, scope, node, acc, inc) else "detach"
    base = (
        inc if isinstance(inc, ATOMS) or inc.lpar else inc.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    )  # type: ignore[attr-defined]
    new = cst.Call(func=cst.Attribute(value=base, attr=cst.Name(method)))
    return make_fix(module, {inc: new}, SAFE, f"Accumulate `{source_of(module, inc)}.{method}()`")


_NOT_TENSOR_LITERALS = (
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.Dict,
    cst.List,
    cst.Tuple,
    cst.Set,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.DictComp,
    cst.ListComp,
    cst.SetComp,
)


def _maybe_not_tensor(project: Project, scope: Scope, expr: cst.BaseExpression, at: cst.CSTNode, hops: int) -> bool:
    """Evidence that `expr` is not a tensor on some path: a number, `None` or a container
    assigned to it (`loss = 0` before a branch that computes the loss), an entry read by a
    string key (`out["n_exs"]`), a name read by string key elsewhere (a dict of outputs), or
    a project function that returns such a value on one of its paths."""
    if isinstance(expr, _NOT_TENSOR_LITERALS) or (isinstance(expr, cst.Name) and expr.value == "None"):
        return True
    if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation)):
        parts = [expr.left, expr.right] if isinstance(expr, cst.BinaryOperation) else [expr.expression]
        # `loss * n` is a tensor when one side is; numbers on the other side are fine.
        return all(
            _maybe_not_tensor(project, scope, p, at, hops) or isinstance(p, (cst.Integer, cst.Float)) for p in parts
        )
    if isinstance(expr, cst.Subscript):
        return _string_keyed(expr)
    if isinstance(expr, cst.Call):
        fn = project.resolve_callee(expr.func, scope)
        if isinstance(fn, Scope) and hops > 0:
            return any(_maybe_not_tensor(project, fn, rv, rv, hops - 1) for rv in return_values(fn))
        return False
    if isinstance(expr, cst.Name):
        if _read_by_key(scope, expr.value):
            return True
        defs, _ = D.scope_index(scope).reaching(expr.value, at)
        return any(
            d.how == "assign"
            and not d.path
            and hops > 0
            and _maybe_not_tensor(project, scope, d.value, d.stmt, hops - 1)
            for d in defs
        )
    return False


def _read_by_key(scope: Scope, name: str) -> bool:
    body = scope.node.body if isinstance(scope.node, cst.FunctionDef) else scope.node
    return any(
        isinstance(n, cst.Subscript) and isinstance(n.value, cst.Name) and n.value.value == name and _string_keyed(n)
        for n in walk(body)
    )


def _string_keyed(sub: cst.Subscript) -> bool:
    """`x["loss"]`: an entry of a dict (or of a model's output record), not a tensor index."""
    return any(isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.SimpleString) for e in sub.slice)


def _item_is_safe(module: ModuleFacts, scope: Scope, node: cst.CSTNode, acc: str, inc: cst.BaseExpression) -> bool:
    if not isinstance(node, (cst.AugAssign, cst.Assign)) or "." in acc or not isinstance(inc, cst.Name):
        return False
    # `.item()` needs a one-element tensor: the value `backward()` was called on without arguments.
    scalar = any(
        isinstance(c.func, cst.Attribute)
        and c.func.attr.value == "backward"
        and not c.args
        and isinstance(c.func.value, cst.Name)
        and c.func.value.value == inc.value
        for c in scope.calls
    )
    inits = [b for b in scope.bindings.get(acc, []) if b.stmt is not node]
    if not scalar or not inits or not all(isinstance(b.value, (cst.Integer, cst.Float)) for b in inits):
        return False
    owners = {id(b.stmt) for b in scope.bindings.get(acc, [])} | {id(node)}
    body = scope.node.body if isinstance(scope.node, cst.FunctionDef) else scope.node
    for n in walk(body):
        if isinstance(n, cst.Name) and n.value == acc and not _numeric_use(module, n, owners):
            return False
    return True


def _numeric_use(module: ModuleFacts, name: cst.Name, owners: set) -> bool:
    """The total is read where a float does as well as a tensor: printed, formatted,
    compared, combined arithmetically into something that is itself only read that way."""
    cur: cst.CSTNode = name
    while True:
        parent = parent_of(module, cur)
        if parent is None:
            return False
        if id(parent) in owners:
            return True  # the accumulation or the initialisation itself
        if isinstance(parent, cst.AssignTarget):
            cur = parent
            continue
        if isinstance(
            parent,
            (
                cst.BinaryOperation,
                cst.UnaryOperation,
                cst.Comparison,
                cst.ComparisonTarget,
                cst.FormattedStringExpression,
            ),
        ):
            if isinstance(parent, cst.FormattedStringExpression):
                return True
            cur = parent
            continue
        if isinstance(parent, cst.Arg):
            call = parent_of(module, parent)
            return (
                isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value in _NUMERIC_CONSUMERS
            )
        if isinstance(parent, (cst.If, cst.While, cst.IfExp)) and getattr(parent, "test", None) is cur:
            return True
        return False


RULE = Rule(
    code="TL604",
    name="loss-accumulated-with-graph",
    family="graph",
    severity=WARNING,
    summary="A loss tensor is accumulated across iterations with its graph attached.",
    fixable=True,
    check=loss_accumulated_with_graph,
    fixes=(fix_tl604,),
    no_runtime_check="the tracer does not follow Python accumulators across iterations",
)
