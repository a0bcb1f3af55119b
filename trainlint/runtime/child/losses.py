"""Loss inputs: what the functional losses (`F.cross_entropy`, ...; the nn loss modules call
them) were fed on their first calls at each line, and the value they returned.

Later calls are only checked for class targets out of range. In overfit mode the first targets
seen at a line are fed again, with the first batch.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.records import CLASS_LOSSES, LOSSES, CodeSite, LossInputs, LossProducer, LossValue

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer

FULL_LOSS_CALLS = 3  # calls per line fully measured
LossKey = Tuple[str, str, int]  # (function, path, line)


class LossWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.calls: Dict[LossKey, int] = {}
        self.first_targets: Dict[LossKey, Any] = {}  # overfit mode

    def before(
        self, name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]
    ) -> Tuple[Optional[LossKey], Tuple[Any, ...], Dict[str, Any]]:
        """Record the inputs; returns the key to record the value under (None: not recorded)
        and the arguments to call with (overfit mode may swap the target)."""
        tracer = self.tracer
        inp = args[0] if args else kwargs.get("input")
        target = args[1] if len(args) > 1 else kwargs.get("target")
        if not isinstance(inp, torch.Tensor):
            return None, args, kwargs
        site = sites.user_site()
        path, line = site if site else ("", 0)
        key = (name, path, line)
        n = self.calls.get(key, 0) + 1
        self.calls[key] = n
        if tracer.overfit and not tracer.loader_used and isinstance(target, torch.Tensor):
            first = self.first_targets.get(key)
            if first is None:
                self.first_targets[key] = target
            elif first.shape == target.shape and first.dtype == target.dtype:
                target = first
                if len(args) > 1:
                    args = (args[0], first) + tuple(args[2:])
                else:
                    kwargs = dict(kwargs, target=first)
        ignore = kwargs.get("ignore_index", -100)
        full = n <= FULL_LOSS_CALLS
        class_target = name in CLASS_LOSSES and isinstance(target, torch.Tensor) and probes.class_targets_ok(target)
        if not full and not class_target:
            return None, args, kwargs
        stats = probes.loss_stats(
            name,
            inp,
            target if isinstance(target, torch.Tensor) else None,
            full,
            ignore_index=ignore if isinstance(ignore, int) else -100,
        )
        tgt = stats.target
        out_of_range = False
        if class_target and stats.num_classes is not None and tgt is not None:
            lo, hi = tgt.min_valid, tgt.max
            out_of_range = (isinstance(lo, (int, float)) and lo < 0) or (
                isinstance(hi, (int, float)) and hi >= stats.num_classes
            )
        if not full and not out_of_range:
            return None, args, kwargs
        producer = tracer.models.producer_of(inp)
        tracer.emit(
            LossInputs(
                fn=name,
                site=sites.code_site(site),
                call=n,
                step=tracer.total_steps + 1,
                reduction=kwargs.get("reduction", "mean"),
                ignore_index=ignore if isinstance(ignore, int) else None,
                label_smoothing=kwargs.get("label_smoothing", 0.0),
                grad_enabled=torch.is_grad_enabled(),
                input_has_grad=bool(inp.requires_grad),
                produced_by=LossProducer(module=producer[0], layer_type=producer[1]) if producer else None,
                input=stats.input,
                num_classes=stats.num_classes,
                target=stats.target,
                rows=stats.rows,
                target_out_of_range=out_of_range,
            )
        )
        return (key if full else None), args, kwargs

    def after(self, name: str, key: LossKey, out: Any) -> None:
        if isinstance(out, torch.Tensor) and out.numel() >= 1 and out.is_floating_point():
            tracer = self.tracer
            value = probes.read([out.detach().float().mean()])[0]
            tracer.emit(
                LossValue(
                    fn=name,
                    site=CodeSite(key[1], key[2]),
                    call=self.calls.get(key, 0),
                    value=probes.number(value),
                    step=tracer.total_steps + 1,
                )
            )


def install(tracer: Tracer, patcher: Patcher) -> None:
    def make(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def loss(*args: Any, **kwargs: Any) -> Any:
                if not tracer.recording or tracer.in_call("loss"):
                    return original(*args, **kwargs)
                tracer.set_in_call("loss", True)
                try:
                    key = None
                    try:
                        key, args, kwargs = tracer.losses.before(name, args, kwargs)
                    except Exception as exc:
                        tracer.internal(f"loss:{name}", exc)
                    out = original(*args, **kwargs)
                    if key is not None:
                        tracer.guarded("loss-value", tracer.losses.after, name, key, out)
                    return out
                finally:
                    tracer.set_in_call("loss", False)

            return loss

        return wrap

    for name in LOSSES:
        patcher.replace(F, name, make(name))
