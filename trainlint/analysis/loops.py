"""Training loops as the ordered events of one iteration.

Each `for`/`while` loop is read as the sequence of things one iteration does: forward,
loss, backward, zero_grad / grad reset, optimizer step, scheduler step, clipping, GradScaler
calls, mode switches. Calls into functions and methods of the linted project are followed
(to a bounded depth) so a loop that calls `train_step(batch)` sees what `train_step` does.
`if` branches, nested loops and `torch.no_grad()` blocks are kept on each event.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import kinds as K
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.gradmode import enables_grad, no_grad_nodes
from trainlint.analysis.names import dotted, is_self
from trainlint.analysis.symbols import Resolver, Value
from trainlint.analysis.walk import calls_in_evaluation_order, walk

MAX_CALL_DEPTH = 4

BACKWARD = "backward"
AUTOGRAD_GRAD = "autograd_grad"  # torch.autograd.grad: gradients returned, .grad untouched
ZERO_GRAD = "zero_grad"  # opt.zero_grad(), model.zero_grad(), p.grad = None, p.grad.zero_()
STEP = "step"  # optimizer (or scaler/xla) step
SCHED_STEP = "sched_step"
UNKNOWN_STEP = "unknown_step"  # `.step()` on something we could not resolve
ENV_STEP = "env_step"  # `env.step(action)`: an environment's step, no update of any weights
CLIP = "clip"
SCALER_SCALE = "scaler_scale"
SCALER_UNSCALE = "scaler_unscale"
SCALER_STEP = "scaler_step"
SCALER_UPDATE = "scaler_update"
FORWARD = "forward"
LOSS = "loss"
MANUAL_UPDATE = "manual_update"
GRAD_READ = "grad_read"
EVAL_MODE = "eval_mode"
TRAIN_MODE = "train_mode"

Loop = Union[cst.For, cst.While]

# In-place tensor methods that, given a gradient, update their receiver by hand.
_INPLACE_UPDATES = {"sub_", "add_", "copy_", "addcdiv_", "addcmul_", "mul_", "div_"}


@dataclass(frozen=True)
class Event:
    kind: str
    node: cst.CSTNode
    scope: Scope
    receiver: Optional[Value] = None
    # Relative to the loop being analysed: the `if`/`try` nodes and inner loops around the event.
    conds: Tuple[int, ...] = ()
    # The branch taken at each choice around the event: (the `if`/`match`/`try` node, arm).
    # Two events on different arms of one choice never run in the same iteration.
    arms: Tuple[Tuple[int, int], ...] = ()
    # The same, by the text of a simple `if` test: two `if use_amp:` statements take the same
    # arm in one iteration (`if amp: scaled backward / else: backward`, later `if amp:
    # scaler.step / else: opt.step`), and `if not use_amp:` the other one.
    tests: Tuple[Tuple[str, int], ...] = ()
    loops: Tuple[int, ...] = ()
    no_grad: bool = False
    # Call sites (scope, call) through which the event was reached from the loop.
    via: Tuple[Tuple[Scope, cst.Call], ...] = ()
    arg: Optional[cst.BaseExpression] = None  # what backward() was called on, the clip's target...
    scaled: bool = False  # backward on `scaler.scale(loss)`
    engine: bool = False  # accelerator.backward(loss) / fabric / deepspeed style
    grad_on: bool = False  # inside `torch.enable_grad()`: an outer no_grad does not reach it

    @property
    def module(self) -> ModuleFacts:
        return self.scope.module

    def exclusive_with(self, other: "Event") -> bool:
        """On another arm of an `if`/`else`, `match` or `except` than `other`."""
        mine = dict(self.arms)
        if any(node in mine and mine[node] != arm for node, arm in other.arms):
            return True
        if not (self.tests and other.tests):
            return False
        tested = dict(self.tests)
        return any(key in tested and tested[key] != arm for key, arm in other.tests)

    @property
    def is_step(self) -> bool:
        return self.kind in (STEP, SCALER_STEP)

    @property
    def generates(self) -> bool:
        """A `model.generate(...)` forward: decoding, never a training step's forward."""
        f = self.node.func if isinstance(self.node, cst.Call) else None
        return isinstance(f, cst.Attribute) and f.attr.value == "generate"

    @property
    def callee(self) -> cst.CSTNode:
        """What the event's call calls: `model` for `model(x)`, `model.forward(x)` and `model.generate(x)`."""
        node = self.node
        if isinstance(node, cst.Call):
            f = node.func
            return f.value if isinstance(f, cst.Attribute) and f.attr.value in ("forward", "generate") else f
        return node


@dataclass
class LoopFacts:
    node: Loop
    scope: Scope
    events: List[Event] = field(default_factory=list)

    def has(self, *kinds: str) -> bool:
        return any(e.kind in kinds for e in self.events)

    def first(self, *kinds: str) -> Optional[Event]:
        for e in self.events:
            if e.kind in kinds:
                return e
        return None

    def inner_loop_kinds(self) -> Dict[int, Set[str]]:
        """Event kinds of each inner loop (by id) of this loop, lexical or in a helper."""
        found: Dict[int, Set[str]] = {}
        for e in self.events:
            for lid in e.loops:
                found.setdefault(lid, set()).add(e.kind)
        return found


class LoopAnalyzer:
    """Builds and caches the events of every loop of a project."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._body_cache: Dict[int, List[Event]] = {}
        self._loops: Dict[int, List[LoopFacts]] = {}  # per module of this run's project
        self._in_progress: set = set()

    def loops_of(self, module: ModuleFacts) -> List[LoopFacts]:
        cached = self._loops.get(id(module))
        if cached is not None:
            return cached
        out: List[LoopFacts] = []
        off = no_grad_nodes(module)  # (inside `with torch.no_grad():`, a decorated function, ...)
        for scope in module.scopes:
            for loop in _loops_in(scope.body):
                lf = LoopFacts(node=loop, scope=scope)
                lf.events = self._block(_loop_body(loop), scope, depth=0)
                if id(loop) in off:
                    lf.events = [_no_grad(e) for e in lf.events]
                out.append(lf)
        self._loops[id(module)] = out
        return out

    def body_events(self, fn: Scope, depth: int) -> List[Event]:
        """Events of a whole function body, relative to that body (cached per function)."""
        key = id(fn)
        if key in self._body_cache:
            return self._body_cache[key]
        if key in self._in_progress:
            return []
        self._in_progress.add(key)
        try:
            events = self._block(fn.body, fn, depth)
        finally:
            self._in_progress.discard(key)
        if depth <= 1:
            self._body_cache[key] = events
        return events

    # statement walking ------------------------------------------------------------------

    def _block(self, stmts: Sequence[cst.CSTNode], scope: Scope, depth: int) -> List[Event]:
        out: List[Event] = []
        off = no_grad_nodes(scope.module)  # (also after `torch.set_grad_enabled(False)` in a block)
        for stmt in stmts:
            events = self._statement(stmt, scope, depth)
            out.extend([_no_grad(e) for e in events] if id(stmt) in off else events)
        return out

    def _statement(self, stmt: cst.CSTNode, scope: Scope, depth: int) -> List[Event]:
        if isinstance(stmt, cst.SimpleStatementLine):
            out: List[Event] = []
            for small in stmt.body:
                out.extend(self._small(small, scope, depth))
            return out
        if isinstance(stmt, cst.If):
            out = self._expr(stmt.test, scope, depth)
            test = test_key(stmt.test)
            out += _tag(self._block(_suite(stmt.body), scope, depth), cond=id(stmt), arm=0, test=test)
            if stmt.orelse is not None:
                if isinstance(stmt.orelse, cst.If):
                    out += _tag(self._statement(stmt.orelse, scope, depth), cond=id(stmt), arm=1, test=test)
                else:
                    out += _tag(self._block(_suite(stmt.orelse.body), scope, depth), cond=id(stmt), arm=1, test=test)
            return out
        if isinstance(stmt, (cst.For, cst.While)):
            head = stmt.iter if isinstance(stmt, cst.For) else stmt.test
            out = self._expr(head, scope, depth)
            out += _tag(self._block(_loop_body(stmt), scope, depth), loop=id(stmt))
            if stmt.orelse is not None:
                out += _tag(self._block(_suite(stmt.orelse.body), scope, depth), cond=id(stmt))
            return out
        if isinstance(stmt, cst.With):
            out = []
            for item in stmt.items:
                out += self._expr(item.item, scope, depth)
            body = self._block(_suite(stmt.body), scope, depth)  # (no_grad bodies: marked there)
            if any(enables_grad(item.item, scope.module) for item in stmt.items):
                body = [replace(e, no_grad=False, grad_on=True) for e in body]
            return out + body
        if isinstance(stmt, cst.Try):
            out = self._block(_suite(stmt.body), scope, depth)
            for i, h in enumerate(stmt.handlers):
                out += _tag(self._block(_suite(h.body), scope, depth), cond=id(h), choice=id(stmt), arm=i)
            if stmt.orelse is not None:
                out += self._block(_suite(stmt.orelse.body), scope, depth)
            if stmt.finalbody is not None:
                out += self._block(_suite(stmt.finalbody.body), scope, depth)
            return out
        if isinstance(stmt, cst.Match):
            out = self._expr(stmt.subject, scope, depth)
            for i, case in enumerate(stmt.cases):
                out += _tag(self._block(_suite(case.body), scope, depth), cond=id(case), choice=id(stmt), arm=i)
            return out
        return []  # defs and classes do not run their bodies here

    def _small(self, small: cst.BaseSmallStatement, scope: Scope, depth: int) -> List[Event]:
        out: List[Event] = []
        if isinstance(small, cst.Assign):
            out += self._expr(small.value, scope, depth)
            for t in small.targets:
                if _is_grad_attr(t.target) and isinstance(small.value, cst.Name) and small.value.value == "None":
                    out.append(Event(ZERO_GRAD, small, scope))
                elif _mentions_grad(small.value) and isinstance(t.target, (cst.Name, cst.Attribute, cst.Subscript)):
                    out.append(Event(MANUAL_UPDATE, small, scope, arg=t.target))
            return out
        if isinstance(small, cst.AugAssign):
            out += self._expr(small.value, scope, depth)
            if _mentions_grad(small.value):
                out.append(Event(MANUAL_UPDATE, small, scope, arg=small.target))
            return out
        if isinstance(small, cst.AnnAssign) and small.value is not None:
            return self._expr(small.value, scope, depth)
        if isinstance(small, (cst.Expr, cst.Return)) and small.value is not None:
            return self._expr(small.value, scope, depth)
        return out

    def _expr(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> List[Event]:
        calls, grad_reads = calls_in_evaluation_order(expr)
        out: List[Event] = []
        if grad_reads:
            out.append(Event(GRAD_READ, grad_reads[0], scope))
        for call in calls:
            out.extend(self._call(call, scope, depth))
        return out

    # calls ------------------------------------------------------------------------------

    def _call(self, call: cst.Call, scope: Scope, depth: int) -> List[Event]:
        # Concerns in order; the first that recognises the call gives its events.
        func = call.func
        qual = scope.module.qualify(func)
        out = self._library_call(call, scope, qual)
        if out is None and isinstance(func, cst.Attribute):
            out = self._method_call(call, func, scope, depth)
        if out is None:
            out = self._other_call(call, scope, qual, depth)
        return out

    def _library_call(self, call: cst.Call, scope: Scope, qual: Optional[str]) -> Optional[List[Event]]:
        """torch's autograd functions, gradient clipping, torch_xla's optimizer step."""
        if qual == "torch.autograd.backward":
            return [Event(BACKWARD, call, scope, arg=call.args[0].value if call.args else None)]
        if qual in ("torch.autograd.grad", "torch.distributed.autograd.backward"):
            # Gradients returned, or kept in a distributed-autograd context: `.grad` is untouched.
            return [Event(AUTOGRAD_GRAD, call, scope, arg=call.args[0].value if call.args else None)]
        if qual is not None and qual.rsplit(".", 1)[-1] in (
            "clip_grad_norm_",
            "clip_grad_value_",
            "clip_grad_norm",
            "clip_grads_with_norm_",
        ):
            return [Event(CLIP, call, scope)]
        if qual is not None and qual.endswith(".optimizer_step") and qual.startswith("torch_xla"):
            opt = C.arg(call, 0, "optimizer")  # `xm.optimizer_step(optimizer, groups=...)`
            receiver = self.resolver.value_of(opt, scope) if opt is not None else None
            return [Event(STEP, call, scope, receiver=receiver)]
        return None

    def _method_call(self, call: cst.Call, func: cst.Attribute, scope: Scope, depth: int) -> Optional[List[Event]]:
        """`x.backward()`, `opt.zero_grad()`, `opt.step()`, `scaler.scale(...)`, `model.eval()`..."""
        res = self.resolver
        name = func.attr.value
        recv = func.value
        if name == "backward":
            return [self._backward(call, recv, scope)]
        if name == "manual_backward":
            return [Event(BACKWARD, call, scope, arg=call.args[0].value if call.args else None, engine=True)]
        if name == "zero_grad":
            return [Event(ZERO_GRAD, call, scope, receiver=res.value_of(recv, scope))]
        if name == "zero_" and _is_grad_attr(recv):
            return [Event(ZERO_GRAD, call, scope)]
        if name in _INPLACE_UPDATES and not _is_grad_attr(recv) and any(_mentions_grad(a.value) for a in call.args):
            # `p.sub_(lr * p.grad)`, `p.data.add_(p.grad, alpha=-lr)`: a hand-written update
            return [Event(MANUAL_UPDATE, call, scope, arg=recv)]
        if name in ("clip_grad_norm_", "clip_grad_value_", "clip_gradients"):
            # (`fabric.clip_gradients(model, opt, max_norm=...)`, Lightning's `self.clip_gradients`)
            return [Event(CLIP, call, scope)]
        if name == "step" and not isinstance(res.project.resolve_callee(func, scope), Scope):
            # (`self.step(batch)` of a trainer class is a helper to follow, not an optimizer)
            return self._step(call, recv, scope, depth)
        if name in ("scale", "unscale_", "update"):
            v = res.value_of(recv, scope) or _guessed_value(recv)  # as `scaler.step()` is
            if v is not None and v.kind == K.SCALER:
                kind = {"scale": SCALER_SCALE, "unscale_": SCALER_UNSCALE, "update": SCALER_UPDATE}[name]
                return [Event(kind, call, scope, receiver=v)]
        if name == "generate" or (name == "forward" and not is_self(recv)):
            # `model.generate(x)`, `model.forward(x)`: forward passes (of a library model, or
            # calling `forward` directly, hooks skipped)
            v = res.value_of(recv, scope)
            if v is not None and v.kind == K.MODEL:
                return [Event(FORWARD, call, scope, receiver=v)]
        if name in ("eval", "train"):
            v = res.value_of(recv, scope)
            if v is not None and v.kind == K.MODEL:
                is_eval = name == "eval" or (
                    call.args and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "False"
                )
                return [Event(EVAL_MODE if is_eval else TRAIN_MODE, call, scope, receiver=v)]
        return None

    def _passed_function(self, func: cst.BaseExpression, scope: Scope) -> Optional[Scope]:
        """`backprop(loss)` where `backprop` is a parameter that every caller in sight passes
        the same project function or method (`self._train_epoch_impl(progress,
        self._backprop)`): that function."""
        if not isinstance(func, cst.Name) or func.value not in scope.params or func.value in scope.bindings:
            return None
        project = self.resolver.project
        found: Optional[Scope] = None
        for caller, call in project.callers(scope)[:8]:
            given = C.bind(call, scope, func.value, isinstance(call.func, cst.Attribute))
            if not isinstance(given, (cst.Name, cst.Attribute)):
                return None
            target = project.resolve_callee(given, caller)
            if not isinstance(target, Scope) or (found is not None and target is not found):
                return None
            found = target
        return found

    def _other_call(self, call: cst.Call, scope: Scope, qual: Optional[str], depth: int) -> List[Event]:
        """A functional loss, a project function (its events, followed), or a called model or loss."""
        func = call.func
        res = self.resolver
        if K.is_functional_loss(qual):
            return [Event(LOSS, call, scope)]
        callee = res.project.resolve_callee(func, scope) or self._passed_function(func, scope)
        if isinstance(callee, Scope):
            if depth >= MAX_CALL_DEPTH:
                return []
            inner = _for_constant_flags(self.body_events(callee, depth + 1), call, callee)
            out = [replace(e, via=((scope, call),) + e.via) for e in inner]
            forward = self._model_method_forward(call, scope)
            return [forward, *out] if forward is not None else out
        forward = self._model_method_forward(call, scope)
        if forward is not None:
            return [forward]
        if isinstance(func, (cst.Name, cst.Attribute)):
            v = res.value_of(func, scope)
            if (
                v is not None
                and v.kind == K.MODEL
                and v.cls is not None
                and _is_loss_class(v.cls.name, res.project.base_quals(v.cls))
            ):
                return [Event(LOSS, call, scope, receiver=v)]  # `criterion = MultiBoxLoss(...)`
            if v is not None and v.kind == K.MODEL:
                return [Event(FORWARD, call, scope, receiver=v)]
            if v is not None and v.kind == K.LOSS:
                return [Event(LOSS, call, scope, receiver=v)]
            if v is not None and v.kind == K.LOSS_SCALER:
                return self._loss_scaler_call(call, scope)
        return []

    def _loss_scaler_call(self, call: cst.Call, scope: Scope) -> List[Event]:
        """`loss_scaler(loss, optimizer, clip_grad=1.0, parameters=...)`: backward, clipping
        when asked, and the optimizer's step."""
        loss = C.arg(call, 0, "loss")
        opt = C.arg(call, 1, "optimizer")
        out = [Event(BACKWARD, call, scope, arg=loss, engine=True)]
        clip = C.arg(call, 2, "clip_grad")
        if clip is not None and not (isinstance(clip, cst.Name) and clip.value == "None"):
            out.append(Event(CLIP, call, scope))
        receiver = self.resolver.value_of(opt, scope) if opt is not None else None
        out.append(Event(STEP, call, scope, receiver=receiver or Value(K.OPTIMIZER, guess=True)))
        return out

    def _model_method_forward(self, call: cst.Call, scope: Scope) -> Optional[Event]:
        """`model.calculate_objective(x, y)`: a method of the model's class that runs the
        model's own forward (`self.forward(x)` or `self(x)`) is a forward pass of `model`
        (of each class the model may be, when it is chosen at run time)."""
        func = call.func
        if not isinstance(func, cst.Attribute) or is_self(func.value) or func.attr.value in _NOT_FORWARD:
            return None
        if scope.cls is not None and self.resolver.is_module_class(scope.cls):
            return None  # a submodule's method inside a model's own code: part of its computation
        v = self.resolver.value_of(func.value, scope)
        if v is None or v.kind != K.MODEL:
            return None
        classes = [a.cls for a in (v.alts or (v,))]
        if not classes or any(c is None or not self._runs_forward(c, func.attr.value) for c in classes):
            return None
        return Event(FORWARD, call, scope, receiver=v)

    def _runs_forward(self, cls: ClassFacts, name: str) -> bool:
        c: Optional[ClassFacts] = cls
        for _ in range(4):
            if c is None:
                return False
            method = c.methods.get(name)
            if method is not None:
                return any(self.computes_with_model(c, x) for x in method.calls)
            bases = self.resolver.project.base_classes(c)
            c = bases[0] if bases else None
        return False

    def computes_with_model(self, cls: ClassFacts, call: cst.Call) -> bool:
        """A call in a method of the model class `cls` that runs the model's weights: its own
        forward (`self(x)`, `self.forward(x)`) or one of its layers (`self.embed(g)`), as
        `model.incremental_forward(x)` does."""
        if _calls_own_forward(call):
            return True
        d = dotted(call.func)
        if d is None or not d.startswith("self.") or d.count(".") != 1:
            return False
        if not self.resolver.is_module_class(cls) or id(call) in no_grad_nodes(cls.module):
            return False  # (a method that runs its layers under `no_grad` itself is no forward pass)
        return M.class_facts(cls, self.resolver.project).layer(d[5:]) is not None

    def _backward(self, call: cst.Call, recv: cst.BaseExpression, scope: Scope) -> Event:
        if call.args:
            # accelerator.backward(loss), fabric.backward(loss), model_engine.backward(loss)
            first = call.args[0]
            if first.keyword is None or first.keyword.value not in (
                "gradient",
                "retain_graph",
                "create_graph",
                "inputs",
            ):
                return Event(
                    BACKWARD, call, scope, arg=first.value, engine=True, receiver=self.resolver.value_of(recv, scope)
                )
        # `scaler.scale(loss).backward()`, or `scaled = scaler.scale(loss); scaled.backward()`
        found = scope.bindings.get(recv.value, []) if isinstance(recv, cst.Name) else []
        scaled = is_scale_call(recv) or (bool(found) and all(is_scale_call(b.value) for b in found))
        return Event(BACKWARD, call, scope, arg=recv, scaled=scaled)

    def _step(self, call: cst.Call, recv: cst.BaseExpression, scope: Scope, depth: int) -> List[Event]:
        v = self.resolver.value_of(recv, scope) or _guessed_value(recv)
        kind = UNKNOWN_STEP
        if v is not None:
            kind = {K.OPTIMIZER: STEP, K.SCHEDULER: SCHED_STEP, K.SCALER: SCALER_STEP}.get(v.kind or "", UNKNOWN_STEP)
        elif sum(1 for a in call.args if a.keyword is None and not a.star) >= 2:
            # `ap_calculator.step(preds, targets)`: an optimizer or scheduler step takes one
            # argument at most (a closure, a metric); this is some other object's method.
            return []
        if kind == UNKNOWN_STEP and call.args and _environment(recv):
            return [Event(ENV_STEP, call, scope, receiver=v)]  # a reinforcement-learning rollout
        out: List[Event] = []
        if kind in (STEP, SCALER_STEP, UNKNOWN_STEP):
            out += self._closure_events(call, scope, depth)
        out.append(Event(kind, call, scope, receiver=v))
        return out

    def _closure_events(self, call: cst.Call, scope: Scope, depth: int) -> List[Event]:
        """`opt.step(closure)`: the closure's backward and zero_grad run inside the step."""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value != "closure":
                continue
            target = arg.value
            if isinstance(target, cst.Lambda):
                return self._expr(target.body, scope, depth)
            if isinstance(target, cst.Name):
                callee = self.resolver.project.resolve_callee(target, scope)
                if isinstance(callee, Scope) and depth < MAX_CALL_DEPTH:
                    return [replace(e, via=((scope, call),) + e.via) for e in self.body_events(callee, depth + 1)]
        return []


def _environment(recv: cst.BaseExpression) -> bool:
    """A receiver named for a reinforcement-learning environment (`env`, `self.train_env`,
    `envs`, `environment`)."""
    last = (dotted(recv) or "").rsplit(".", 1)[-1].lower()
    return last.startswith("env") or last.endswith(("env", "envs"))


def _is_loss_class(name: str, bases: List[str]) -> bool:
    """A project module that computes a loss: named so, or built on torch's `_Loss`. A model
    wrapped with its loss (`ModelWithLoss(model)`, whose forward runs the model) is a model."""
    if name.endswith("WithLoss"):
        return False
    return name.endswith(("Loss", "Criterion")) or any(
        b.rsplit(".", 1)[-1] in ("_Loss", "_WeightedLoss") for b in bases
    )


# Model methods that are not forward passes even when they call `self(...)`.
_NOT_FORWARD = frozenset({"train", "eval", "forward", "generate", "zero_grad", "step", "backward"})


def _calls_own_forward(call: cst.Call) -> bool:
    """`self(x)` or `self.forward(x)`."""
    f = call.func
    return is_self(f) or (isinstance(f, cst.Attribute) and f.attr.value == "forward" and is_self(f.value))


def _guessed_value(recv: cst.BaseExpression) -> Optional[Value]:
    """What the receiver's name suggests (`scaler`, `optimizer`, `lr_sched`), marked a guess."""
    d = dotted(recv)
    guess = K.guess_kind_from_name(d) if d else None
    return Value(guess, guess=True) if guess else None


def test_key(test: cst.BaseExpression) -> Optional[Tuple[str, bool]]:
    """A simple `if` test as a key that other tests of the same text share, and whether it is
    negated: `use_amp`, `self.scaler is not None`, `args.fp16` (negated: `not use_amp`,
    `scaler is None`). None for anything that calls or computes (its value may change)."""
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, True
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if not (isinstance(target.comparator, cst.Name) and target.comparator.value == "None"):
            return None
        if isinstance(target.operator, cst.IsNot):
            pass
        elif isinstance(target.operator, cst.Is):
            negated = not negated
        else:
            return None
        test = test.left
    name = dotted(test)
    return (name, negated) if name is not None and name not in ("True", "False", "None") else None


def _tag(
    events: List[Event],
    cond: Optional[int] = None,
    loop: Optional[int] = None,
    arm: Optional[int] = None,
    choice: Optional[int] = None,
    test: Optional[Tuple[str, bool]] = None,
) -> List[Event]:
    if cond is not None and arm is not None:
        where = ((cond if choice is None else choice, arm),)
        if test is not None:
            tested = ((test[0], arm ^ test[1]),)
            return [replace(e, conds=(cond,) + e.conds, arms=where + e.arms, tests=tested + e.tests) for e in events]
        return [replace(e, conds=(cond,) + e.conds, arms=where + e.arms) for e in events]
    if cond is not None:
        return [replace(e, conds=(cond,) + e.conds) for e in events]
    if loop is not None:
        return [replace(e, loops=(loop,) + e.loops) for e in events]
    return events


def _for_constant_flags(events: List[Event], call: cst.Call, fn: Scope) -> List[Event]:
    """The events of `fn` that can run when `call` passes a constant for a flag that `fn` tests
    (`self._loss_and_backward(batch, do_backward=False)` skips the `if do_backward:` arm)."""
    taken = _arms_taken(call, fn)
    if not taken:
        return events
    return [e for e in events if all(taken.get(at, arm) == arm for at, arm in e.arms)]


def _arms_taken(call: cst.Call, fn: Scope) -> Dict[int, int]:
    """For each `if <param>:` (or `if <param> is None`, negated or not) of `fn`'s own body
    whose parameter `call` sets to a literal and `fn` never rebinds: the arm that runs."""
    out: Dict[int, int] = {}
    values: Dict[str, Optional[Tuple[object]]] = {}
    for node in walk(fn.node):
        if not isinstance(node, cst.If) or SC.scope_of_node(fn.module, node) is not fn:
            continue
        key = test_key(node.test)
        if key is None or key[0] not in fn.params:
            continue
        name = key[0]
        if name not in values:
            values[name] = _literal_flag(call, fn, name)
        value = values[name]
        if value is None:
            continue
        none_test = isinstance(_unnegated(node.test), cst.Comparison)
        truth = (value[0] is not None) if none_test else bool(value[0])
        out[id(node)] = 0 if truth != key[1] else 1
    return out


def _unnegated(test: cst.BaseExpression) -> cst.BaseExpression:
    return test.expression if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) else test


def _literal_flag(call: cst.Call, fn: Scope, name: str) -> Optional[Tuple[object]]:
    """`(value,)` when `call` gives parameter `name` of `fn` a literal True/False/None/number
    (or leaves it to such a default) and `fn` never rebinds it."""
    if any(b.how != "param-default" for b in fn.bindings.get(name, [])):
        return None
    given = C.bind_default(call, fn, name, isinstance(call.func, cst.Attribute))
    if isinstance(given, cst.Name) and given.value in ("True", "False", "None"):
        return ({"True": True, "False": False, "None": None}[given.value],)
    if isinstance(given, cst.Integer):
        return (int(given.evaluated_value),)
    return None


def _suite(body: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    if isinstance(body, cst.IndentedBlock):
        return body.body
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    return []


def _loop_body(loop: Loop) -> Sequence[cst.CSTNode]:
    return _suite(loop.body)


def _loops_in(stmts: Sequence[cst.CSTNode]) -> List[Loop]:
    """Every loop of a body, nested ones too, but not those of nested defs/classes."""
    out: List[Loop] = []
    for stmt in stmts:
        if isinstance(stmt, (cst.For, cst.While)):
            out.append(stmt)
            out += _loops_in(_loop_body(stmt))
            if stmt.orelse is not None:
                out += _loops_in(_suite(stmt.orelse.body))
        elif isinstance(stmt, cst.If):
            out += _loops_in(_suite(stmt.body))
            orelse = stmt.orelse
            while orelse is not None:
                if isinstance(orelse, cst.If):
                    out += _loops_in(_suite(orelse.body))
                    orelse = orelse.orelse
                else:
                    out += _loops_in(_suite(orelse.body))
                    orelse = None
        elif isinstance(stmt, cst.With):
            out += _loops_in(_suite(stmt.body))
        elif isinstance(stmt, cst.Try):
            out += _loops_in(_suite(stmt.body))
            for h in stmt.handlers:
                out += _loops_in(_suite(h.body))
            if stmt.orelse is not None:
                out += _loops_in(_suite(stmt.orelse.body))
            if stmt.finalbody is not None:
                out += _loops_in(_suite(stmt.finalbody.body))
        elif isinstance(stmt, cst.Match):
            for case in stmt.cases:
                out += _loops_in(_suite(case.body))
    return out


def _no_grad(e: Event) -> Event:
    return e if e.grad_on else replace(e, no_grad=True)


def _is_grad_attr(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Attribute):
        if expr.attr.value == "grad":
            return True
        if expr.attr.value == "data" and isinstance(expr.value, cst.Attribute) and expr.value.attr.value == "grad":
            return True
    return False


def _mentions_grad(expr: cst.BaseExpression) -> bool:
    return bool(calls_in_evaluation_order(expr)[1])


def is_scale_call(v: Optional[cst.BaseExpression]) -> bool:
    """`scaler.scale(loss)`."""
    return isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value == "scale"
