"""Gradient hooks: which parameters received a gradient, and whether a few sampled parameters
still held the previous step's gradient when backward added the new one (stale gradients);
`zero_grad` calls, which clear them.
"""

from __future__ import annotations

import functools
import weakref
from typing import TYPE_CHECKING, Any, Callable, List, Set

import torch
import torch.nn as nn

from trainlint.runtime.child import sites
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.child.probes import Measure
from trainlint.runtime.records import ZeroGradCall, ZeroGradTarget

if TYPE_CHECKING:
    from trainlint.runtime.child.optimizer import OptInfo
    from trainlint.runtime.child.tracer import Tracer

_SAMPLE_PARAMS = 8


class GradientWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.hooked: Set[int] = set()
        self.got_grad: Set[int] = set()

    def watch(self, p: torch.Tensor) -> None:
        """Note each gradient accumulated into a model's trainable parameter."""
        pid = id(p)
        if pid not in self.hooked and p.requires_grad:
            self.hooked.add(pid)
            self.tracer.grad_handles.append(p.register_post_accumulate_grad_hook(self._grad_hook))

    def _grad_hook(self, param: torch.Tensor) -> None:
        if self.tracer.active:
            self.got_grad.add(id(param))

    def received(self, p: torch.Tensor) -> bool:
        return id(p) in self.got_grad

    def sample(self, info: OptInfo, params: List[torch.Tensor]) -> None:
        """Before an optimizer's first step: watch a few of its parameters for stale gradients."""
        for p in params:
            if len(info.sample) >= _SAMPLE_PARAMS:
                break
            if p.requires_grad and p.grad is not None:
                info.sample.append(p)
                info.sample_ids.add(id(p))
                self.tracer.grad_handles.append(p.register_hook(self._stale_hook(info, p)))

    def _stale_hook(self, info: OptInfo, p: torch.Tensor) -> Callable[[torch.Tensor], None]:
        pid = id(p)
        ref = weakref.ref(p)
        tracer = self.tracer

        def hook(grad: torch.Tensor) -> None:
            if not tracer.active or info.steps == 0 or info.checked.get(pid) == info.steps:
                return None
            info.checked[pid] = info.steps
            param = ref()
            if param is None:
                return None
            old = param.grad
            if pid in info.cleared or old is None:
                tracer.deferred.add((Measure.FRESH, info.index, pid), grad.new_zeros((), dtype=torch.float32))
            else:
                # .grad still holds something from before the last step: unless it is all zeros
                # (cleared by hand), this backward adds onto the previous step's gradient.
                tracer.deferred.add((Measure.STALE, info.index, pid), old.detach().float().norm())
                tracer.deferred.add((Measure.INCOMING, info.index, pid), grad.detach().float().norm())
            return None

        return hook


def install(tracer: Tracer, patcher: Patcher) -> None:
    """`zero_grad` of optimizers and modules: the sampled parameters they clear are not stale."""

    def opt_zero(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def zero_grad(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = original(self, *args, **kwargs)
            if tracer.recording:
                info = tracer.optim.info(self)
                info.cleared.update(info.sample_ids)
                tracer.event(
                    ZeroGradCall(
                        target=ZeroGradTarget.OPTIMIZER,
                        optimizer=info.index,
                        site=sites.code_site(sites.user_site()),
                    )
                )
            return out

        return zero_grad

    def module_zero(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def zero_grad(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
            out = original(self, *args, **kwargs)
            if tracer.recording:
                ids = {id(p) for p in self.parameters()}
                for info in tracer.optim.opts.values():
                    info.cleared.update(info.sample_ids & ids)
                tracer.event(ZeroGradCall(target=ZeroGradTarget.MODULE, site=sites.code_site(sites.user_site())))
            return out

        return zero_grad

    patcher.replace(torch.optim.Optimizer, "zero_grad", opt_zero)
    patcher.replace(nn.Module, "zero_grad", module_zero)
