"""TL304 distributed-sampler-without-set-epoch: A shuffling DistributedSampler is never told the epoch, so every epoch repeats one order."""

from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.project import Project
from trainlint.analysis.walk import walk
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.data.common import cached_findings, in_module

# Wrappers that take the loader over and set the sampler's epoch themselves.
_TAKE_OVER = ("prepare", "prepare_data_loader", "setup_dataloaders")


def _tl304(ctx: RuleContext) -> List[Finding]:
    project = ctx.project
    if not any("DistributedSampler" in m.text for m in project.modules):
        return []
    if any(_calls_set_epoch(m) for m in project.modules):
        return []  # the project tells a sampler its epoch somewhere: trust it (one per project)
    out: List[Finding] = []
    uses = D.with_guessed(
        D.training_loaders(project, ctx.loops),
        D.out_of_sight_training_loaders(project, ctx.loops),
        D.handed_to_training_each_epoch(project),
    )
    for use in uses:
        if use.lightning_hook is not None or use.fit_call is not None or not (use.loops or use.epoch_call):
            continue  # Lightning's loop sets the epoch itself
        if use.loops and all(D.single_pass(project, lf) for lf in use.loops):
            continue  # one epoch: nothing to repeat
        expr = C.arg(use.call, 3, "sampler", skip_star=True)
        # (bound to a name, written inline, or `DistributedSampler(ds) if distributed else None`)
        sampler = ctx.resolver.value_of(expr, use.scope) if expr is not None else None
        if sampler is None or sampler.kind != K.SAMPLER or not isinstance(sampler.origin, cst.Call):
            continue
        if _taken_over(use.module):
            continue
        call, module = sampler.origin, sampler.module or use.module
        shuffle = C.arg(call, None, "shuffle", skip_star=True)
        if shuffle is not None and D.is_false_or_none(shuffle):
            continue  # no shuffling: the same order is what was asked for
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = [
            (use.module, use.call, "the training DataLoader it samples for"),
        ]
        if use.loops:
            # (the loop an epoch loop runs, rather than a one-off pass such as a rate finder)
            lf, epoch = next(
                ((x, e) for x in use.loops if (e := _epoch_loop_calling(project, x.scope)) is not None),
                (use.loops[0], None),
            )
            head = lf.node.iter if isinstance(lf.node, cst.For) else lf.node
            cycle = D.drawn_cyclically(project, lf)
            if cycle is not None:
                related.append(
                    (lf.scope.module, cycle, "the training loop draws from it epoch after epoch through this")
                )
            else:
                related.append((lf.scope.module, head, "the training loop, run once per epoch, that reads it"))
            if epoch is not None:
                related.append((epoch[0].module, epoch[1], "the epoch loop that runs it, where `set_epoch` belongs"))
        elif use.epoch_call is not None:
            where, handed = use.epoch_call
            related.append((where.module, handed, "the epoch loop hands the loader to its training function here"))
        out.append(
            Finding(
                "TL304",
                module,
                call,
                "this `DistributedSampler` shuffles with a seed made from its epoch, and nothing in the "
                "project calls its `set_epoch()`: the epoch stays 0, so every epoch visits the samples in "
                "the same order on every rank and the per-epoch reshuffle SGD relies on is lost. Call "
                "`sampler.set_epoch(epoch)` at the start of each epoch, before iterating the loader.",
                related=related,
            )
        )
    return out


def _set_once(ctx: RuleContext) -> List[Finding]:
    """`loader.sampler.set_epoch(...)` called once, outside any loop, before the epochs run
    (`trainer.run(loader, max_epochs=n)` or `for epoch in ...` later in the same function): the
    sampler keeps that one epoch for the whole training."""
    out: List[Finding] = []
    if "set_epoch" not in ctx.module.text:
        return out
    for scope in ctx.module.scopes:
        for call in scope.calls:
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "set_epoch"):
                continue
            if SC.scope_index(scope).loops_around(call) or not _runs_once(ctx, scope):
                continue
            if _also_set_in_a_loop(scope, call):
                continue  # (set before skipping the batches of a resumed epoch, and in the epoch loop too)
            later = _epochs_after(scope, call)
            if later is None:
                continue
            out.append(
                Finding(
                    "TL304",
                    ctx.module,
                    call,
                    "`set_epoch` runs once here, before training starts, and never again: the "
                    "`DistributedSampler` keeps this one epoch, so every epoch visits the samples in the "
                    "same order on every rank and the per-epoch reshuffle SGD relies on is lost. Call "
                    "`sampler.set_epoch(epoch)` at the start of each epoch (inside the epoch loop, or in a "
                    "handler run when each epoch starts).",
                    related=[(ctx.module, later, "the epochs run here")],
                )
            )
    return out


def _also_set_in_a_loop(scope: Scope, call: cst.Call) -> bool:
    """The same sampler's `set_epoch` is called again inside a loop of the function."""
    assert isinstance(call.func, cst.Attribute)
    code = scope.module.tree.code_for_node
    receiver = code(call.func.value)
    index = SC.scope_index(scope)
    return any(
        other is not call
        and isinstance(other.func, cst.Attribute)
        and other.func.attr.value == "set_epoch"
        and code(other.func.value) == receiver
        and bool(index.loops_around(other))
        for other in scope.calls
    )


def _runs_once(ctx: RuleContext, scope: Scope) -> bool:
    """A module's top level, or a plain function (not a method, a decorated handler or a
    function named for epochs) that no caller calls inside a loop. Unlike a loader's single
    pass (`data.single_pass`), a function no one calls in sight counts: a script's `main`,
    started by a launcher."""
    if scope.name == "<module>":
        return True
    fn = scope.node
    if scope.cls is not None or not isinstance(fn, cst.FunctionDef) or fn.decorators:
        return False
    if "epoch" in scope.simple_name.lower() or _handed_over(ctx.module, scope.simple_name):
        return False
    return _epoch_loop_calling(ctx.project, scope) is None


def _handed_over(module: ModuleFacts, name: str) -> bool:
    """The function is handed to another call (`add_event_handler(Events.EPOCH_STARTED, fn)`),
    other than a launcher that runs it once (`spawn(fn, ...)`, `parallel.run(fn)`)."""
    for s in module.scopes:
        for c in s.calls:
            callee = c.func.attr.value if isinstance(c.func, cst.Attribute) else dotted(c.func) or ""
            if callee in ("run", "spawn", "launch", "start_processes", "Process"):
                continue
            if any(isinstance(a.value, cst.Name) and a.value.value == name for a in c.args):
                return True
    return False


def _epochs_after(scope: Scope, call: cst.Call) -> Optional[cst.CSTNode]:
    """What runs the epochs over the sampler's loader after `call`: a loop whose header speaks
    of epochs, or a call given an epoch count (`trainer.run(loader, max_epochs=n)`) or a
    `.fit(...)`, that reads the loader (or the sampler)."""
    assert isinstance(call.func, cst.Attribute)
    root = call.func.value
    while isinstance(root, cst.Attribute):  # `loader.sampler.set_epoch(...)`: the loader
        root = root.value
    if not isinstance(root, cst.Name):
        return None
    names = {root.value} | {
        name
        for name, binds in scope.bindings.items()
        for b in binds
        if isinstance(b.value, cst.Call)
        and any(
            a.keyword is not None and a.keyword.value == "sampler" and _is_name(a.value, root.value)
            for a in b.value.args
        )
    }

    def reads(node: cst.CSTNode) -> bool:
        return any(isinstance(n, cst.Name) and n.value in names for n in walk(node))

    for node in SC.scope_index(scope).compounds.values():
        if isinstance(node, (cst.For, cst.While)) and SC.follows(scope, call, node):
            head = node.iter if isinstance(node, cst.For) else node.test
            header = scope.module.tree.code_for_node(head)
            if isinstance(node, cst.For):
                header += scope.module.tree.code_for_node(node.target)
            if "epoch" in header.lower() and reads(node):
                return node
    for later in scope.calls:
        if not SC.follows(scope, call, later) or not any(reads(a.value) for a in later.args):
            continue
        if any(a.keyword is not None and "epoch" in a.keyword.value for a in later.args):
            return later
        if isinstance(later.func, cst.Attribute) and later.func.attr.value == "fit":
            return later
    return None


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _epoch_loop_calling(project: Project, fn: Scope) -> Optional[Tuple[Scope, cst.CSTNode]]:
    """The loop of a caller that calls the function holding the training loop (one call
    away), e.g. `for epoch in range(n): train(loader, model, opt)`."""
    for caller, call in project.callers(fn):
        loops = [c for c in SC.enclosing(caller, call) if isinstance(c, (cst.For, cst.While))]
        if loops:
            return caller, loops[-1]
    return None


def _calls_set_epoch(module: ModuleFacts) -> bool:
    if "set_epoch" not in module.text:
        return False
    return any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value == "set_epoch" for s in module.scopes for c in s.calls
    )


def _taken_over(module: ModuleFacts) -> bool:
    """The loader goes through Accelerate's `prepare` or Fabric's `setup_dataloaders`, which
    set the epoch of the sampler they wrap."""
    return any(f".{name}(" in module.text for name in _TAKE_OVER)


def distributed_sampler_without_set_epoch(ctx: RuleContext) -> List[Finding]:
    return list(in_module(ctx, cached_findings(ctx, _tl304))) + _set_once(ctx)


RULE = Rule(
    code="TL304",
    name="distributed-sampler-without-set-epoch",
    family="data",
    severity=WARNING,
    summary="A shuffling DistributedSampler is never told the epoch, so every epoch repeats one order.",
    check=distributed_sampler_without_set_epoch,
    no_runtime_check="a traced run stops within the first epoch, before a second one could repeat its order",
)
