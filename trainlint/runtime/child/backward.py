"""Backward passes: what the loss given to backward was, and, when no optimizer is used, how the
trained tensors changed between passes (updates by hand, stale gradients). Also whether
parameters moved when backward passes ran but no optimizer step did.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

import torch

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.graph import graph_leaves
from trainlint.runtime.child.patching import Patcher, patch_backward
from trainlint.runtime.child.probes import Measure
from trainlint.runtime.records import AutogradGradCall, BackwardCall, ManualUpdate, NoOptimizerStep, StopReason

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer


class BackwardWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        # manual-update mode (no optimizer): leaf snapshots between backward passes
        self.manual_prev: Optional[Tuple[List[torch.Tensor], List[torch.Tensor], List[Optional[torch.Tensor]]]] = None
        self.no_step_snapshot: Optional[Tuple[List[torch.Tensor], List[torch.Tensor]]] = None
        self.no_step_reported = False

    def _manual(self) -> bool:
        """No optimizer was built or stepped: the script updates the tensors by hand."""
        optim = self.tracer.optim
        return not optim.opts and not len(optim.opt_site)

    def before(self, loss: torch.Tensor) -> None:
        t = self.tracer
        if t.stopped:
            t.check_stopped()
            return
        if t.waiting:
            # Only which forward passes fed this loss matters now (training vs evaluation).
            if loss.grad_fn is not None:
                t.guarded("backward", t.passes.classify, loss)
            return
        t.backward_count += 1
        t.backward_since_step += 1
        t.guarded("backward", self._before_body, loss)
        manual = self._manual()
        if manual and t.backward_count > t.steps:
            t.stop(StopReason.STEPS)
        if not manual and t.total_steps == 0:
            limit = max(t.steps + 1, int(t.opt("TL103", "max_backward_without_step", 32)))
            if t.backward_count > limit:
                t.guarded("no-step", self.report_no_step)
                t.stop(StopReason.NO_OPTIMIZER_STEP)

    def _before_body(self, loss: torch.Tensor) -> None:
        t = self.tracer
        site = sites.user_site()
        scaled = t.loop_calls.scaled.get(id(loss))
        t.event(
            BackwardCall(
                site=sites.code_site(site),
                grad_fn=loss.grad_fn is not None,
                requires_grad=bool(loss.requires_grad),
                is_leaf=bool(loss.is_leaf),
                grad_enabled=torch.is_grad_enabled(),
                inference=torch.is_inference_mode_enabled(),
                scaled=scaled is not None,
            )
        )
        value = scaled if isinstance(scaled, torch.Tensor) else loss
        if value.numel() >= 1 and value.is_floating_point():
            t.deferred.add(
                (Measure.LOSS_VALUE, "backward", site[0] if site else "", site[1] if site else 0, t.total_steps + 1),
                value.detach().float().mean(),
            )
        if loss.grad_fn is not None:
            t.passes.classify(loss)
        if self._manual():
            self._manual_update(loss, site)
        elif t.total_steps == 0 and self.no_step_snapshot is None:
            params = t.optim.live_params()
            params = params or graph_leaves(loss)
            self.no_step_snapshot = (params, [p.detach().clone() for p in params])

    def report_no_step(self) -> None:
        snap = self.no_step_snapshot
        if snap is None or self.no_step_reported:
            return
        self.no_step_reported = True
        params, before = snap
        deltas = probes.read([(p.detach() - b).norm() for p, b in zip(params, before)]) if params else []
        self.tracer.emit(
            NoOptimizerStep(
                backwards=self.tracer.backward_count,
                params=len(params),
                changed=sum(1 for d in deltas if d != 0.0),
                max_delta=probes.number(max(deltas)) if deltas else 0.0,
            )
        )

    def _manual_update(self, loss: torch.Tensor, site: Optional[sites.Site]) -> None:
        """No optimizer: find the trained leaves from the graph and watch them between passes."""
        t = self.tracer
        leaves = graph_leaves(loss)
        if not leaves:
            t.emit(ManualUpdate(backward=t.backward_count, leaves=0, site=sites.code_site(site)))
            return
        prev = self.manual_prev
        record = ManualUpdate(backward=t.backward_count, leaves=len(leaves), site=sites.code_site(site))
        vals: List[torch.Tensor] = []
        if prev is not None:
            p_leaves, p_values, p_grads = prev
            same = [i for i, leaf in enumerate(p_leaves) if any(leaf is x for x in leaves)]
            record.same_leaves = len(same) == len(p_leaves) and len(leaves) == len(p_leaves)
            dot = torch.zeros((), device=leaves[0].device)
            delta_sq = torch.zeros((), device=leaves[0].device)
            for i in same:
                d = p_leaves[i].detach().float() - p_values[i].float()
                delta_sq = delta_sq + (d * d).sum()
                g = p_grads[i]
                if g is not None:
                    dot = dot + (d * g.float()).sum()
            vals += [delta_sq.sqrt(), dot]
        stale = [leaf.grad.detach().float().norm() for leaf in leaves if leaf.grad is not None]
        vals.append(torch.stack(stale).max() if stale else torch.zeros((), device=leaves[0].device))
        out = probes.read(vals)
        if prev is not None:
            record.delta_norm = probes.number(out[0])
            record.delta_dot_grad = probes.number(out[1])
        record.stale_grad_norm = probes.number(out[-1])
        record.stale_grads = len(stale)
        t.emit(record)
        total = sum(leaf.numel() for leaf in leaves)
        if total <= 50_000_000:
            self.manual_prev = (leaves, [leaf.detach().clone() for leaf in leaves], [])
        else:
            self.manual_prev = None

    def after(self, loss: torch.Tensor) -> None:
        prev = self.manual_prev
        if prev is not None and not self.tracer.optim.opts:
            leaves, values, _ = prev
            self.manual_prev = (
                leaves,
                values,
                [leaf.grad.detach().clone() if leaf.grad is not None else None for leaf in leaves],
            )


def install(tracer: Tracer, patcher: Patcher) -> None:
    """`Tensor.backward`, `torch.autograd.backward` and `torch.autograd.grad`."""

    def run(original: Callable[..., Any], loss: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        if not tracer.active or tracer.in_call("backward") or not isinstance(loss, torch.Tensor):
            return original(*args, **kwargs)
        tracer.backward.before(loss)
        tracer.set_in_call("backward", True)
        try:
            return original(*args, **kwargs)
        finally:
            tracer.set_in_call("backward", False)
            if tracer.active:
                tracer.guarded("after-backward", tracer.backward.after, loss)

    def autograd_grad(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def grad(*args: Any, **kwargs: Any) -> Any:
            if tracer.recording and not tracer.in_call("backward"):
                tracer.event(AutogradGradCall(site=sites.code_site(sites.user_site())))
            return original(*args, **kwargs)

        return grad

    patch_backward(patcher, run)
    patcher.replace(torch.autograd, "grad", autograd_grad)
