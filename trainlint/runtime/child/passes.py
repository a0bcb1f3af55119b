"""Training or evaluation: each model forward pass is classified by what followed it, and the
model's mode is noted (eval mode, no_grad, functional dropout left on).

A pass with gradients off can only be evaluation. A pass with a graph is held until the next
backward: if the loss reaches its output it was training, otherwise evaluation.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from trainlint.runtime.child import sites
from trainlint.runtime.child.graph import graph_nodes
from trainlint.runtime.child.layers import DROPOUT
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.records import DropoutState, ForwardPasses, FunctionalDropout, PassCount, PassKind

if TYPE_CHECKING:
    from trainlint.runtime.child.modules import RootInfo
    from trainlint.runtime.child.tracer import Tracer

_MAX_PENDING_PASSES = 4
DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")


class PassWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        # (model id, output grad_fn, training mode, site) of passes not yet classified
        self.pending: List[Tuple[int, Any, bool, Optional[sites.Site]]] = []

    def record(self, info: RootInfo) -> ForwardPasses:
        counts = [
            PassCount(kind=kind, training=training, count=n, first=info.first.get((kind, training)))
            for (kind, training), n in info.passes.items()
        ]
        return ForwardPasses(model=info.label, has_drop_or_norm=info.has_drop_or_norm, counts=counts)

    def count(self, info: RootInfo, kind: str, training: bool, site: Optional[sites.Site] = None) -> None:
        key = (kind, training)
        if kind != PassKind.TRAIN:
            self.tracer.eval_seen = True
        info.passes[key] = info.passes.get(key, 0) + 1
        if key not in info.first:
            info.first[key] = sites.code_site(site or sites.user_site())
            self.tracer.emit(self.record(info))

    def hold(self, mid: int, grad_fn: Any, training: bool, site: Optional[sites.Site]) -> None:
        """A pass with a graph: classified by the next backward."""
        # The node itself is held (not its id, which a freed graph could hand to a new node)
        # until the next backward tells whether this pass fed a loss. Only a few are kept, so
        # an evaluation loop run with gradients on cannot pile up graphs.
        self.pending.append((mid, grad_fn, training, site))
        if len(self.pending) > _MAX_PENDING_PASSES:
            old = self.pending.pop(0)
            self.count(self.tracer.models.roots[old[0]], PassKind.EVAL_GRAD, old[2], old[3])

    def classify(self, loss: torch.Tensor) -> None:
        """A backward from `loss`: the held passes it reaches were training, the others evaluation."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        if len(pending) == 1:
            train = {0}
        else:
            reached = graph_nodes(loss.grad_fn) if loss.grad_fn is not None else set()
            train = {i for i, p in enumerate(pending) if id(p[1]) in reached}
        roots = self.tracer.models.roots
        for i, (mid, _, training, site) in enumerate(pending):
            info = roots.get(mid)
            if info is None:
                continue
            if i in train:
                self.count(info, PassKind.TRAIN, training, site)
            else:
                self.count(info, PassKind.EVAL_GRAD, training, site)

    def flush(self) -> None:
        """The run is over: a pass that no backward used was evaluation."""
        roots = self.tracer.models.roots
        for mid, _, training, site in self.pending:
            if mid in roots:
                self.count(roots[mid], PassKind.EVAL_GRAD, training, site)
        self.pending = []

    def emit_all(self) -> None:
        for info in self.tracer.models.roots.values():
            if info.passes:
                self.tracer.emit(self.record(info))


def install(tracer: Tracer, patcher: Patcher) -> None:
    """Functional dropout inside a module: is it still on while the module is in eval mode?"""
    reported: Dict[Tuple[int, str], bool] = {}

    def make(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def dropout(*args: Any, **kwargs: Any) -> Any:
                if tracer.active and not tracer.stopped and tracer.models.mstack:
                    try:
                        _note_dropout(tracer, reported, name, args, kwargs)
                    except Exception as exc:
                        tracer.internal("dropout", exc)
                return original(*args, **kwargs)

            return dropout

        return wrap

    for name in DROPOUTS:
        patcher.replace(F, name, make(name))


def _note_dropout(
    tracer: Tracer, reported: Dict[Tuple[int, str], bool], name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> None:
    models = tracer.models
    owner = models.mstack[-1]
    if isinstance(owner, DROPOUT):
        return  # nn.Dropout passes its own training flag
    p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
    training = args[2] if len(args) > 2 else kwargs.get("training", True)
    if not p:
        return
    if owner.training:
        return  # in training mode dropout is meant to be on
    state = DropoutState.ACTIVE_IN_EVAL if training else DropoutState.OFF_IN_EVAL
    if reported.get((id(owner), state)):
        return
    reported[(id(owner), state)] = True
    tracer.event(
        FunctionalDropout(
            state=state,
            fn=name,
            module=models.names.get(id(owner), type(owner).__name__),
            site=sites.code_site(sites.user_site()),
        )
    )
