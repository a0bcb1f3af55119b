"""Optimizer steps: global step hooks measure, per parameter, the gradient the step used, the
update it made and the weight's norm, in one read-back per step (the step record).

Before the first step the parameters' initial spread is measured too (TL401), and after it the
optimizer's parameters are named (the optimizer record).
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple

import torch

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.layers import WEIGHTED
from trainlint.runtime.child.modules import MAX_PARAMS_REPORTED
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.child.probes import Measure
from trainlint.runtime.records import (
    NonFiniteAt,
    Number,
    OptimizerParams,
    OptimizerStepCall,
    ParamInfo,
    ParamStep,
    StaleGrad,
    StepRecord,
    StopReason,
)

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer


@dataclass
class OptInfo:
    index: int
    name: str
    site: Optional[sites.Site]
    steps: int = 0
    reported_params: bool = False
    # A few parameters watched for stale gradients (see gradients.py).
    sample: List[torch.Tensor] = field(default_factory=list)
    sample_ids: Set[int] = field(default_factory=set)
    cleared: Set[int] = field(default_factory=set)
    checked: Dict[int, int] = field(default_factory=dict)
    param_index: Dict[int, int] = field(default_factory=dict)
    pre: Optional[Tuple[Any, ...]] = None  # what the pre-step hook measured, for the post-step hook


class OptimizerWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.opts: Dict[int, OptInfo] = {}
        self.opt_refs: Dict[int, Any] = {}
        self.opt_site: "weakref.WeakKeyDictionary[Any, Optional[sites.Site]]" = weakref.WeakKeyDictionary()
        self.opt_count = 0

    def info(self, opt: Any) -> OptInfo:
        info = self.opts.get(id(opt))
        if info is None:
            self.opt_count += 1
            info = OptInfo(index=self.opt_count, name=type(opt).__name__, site=self.opt_site.get(opt))
            self.opts[id(opt)] = info
            self.opt_refs[id(opt)] = weakref.ref(opt)
        return info

    def params(self, opt: Any) -> List[torch.Tensor]:
        return [p for g in opt.param_groups for p in g["params"] if isinstance(p, torch.Tensor)]

    def live_params(self) -> List[torch.Tensor]:
        """The parameters of every optimizer still alive."""
        return [p for ref in self.opt_refs.values() if ref() is not None for p in self.params(ref())]

    def _report_params(self, opt: Any, info: OptInfo, params: List[torch.Tensor]) -> None:
        info.reported_params = True
        models = self.tracer.models
        entries = []
        for i, p in enumerate(params[:MAX_PARAMS_REPORTED]):
            info.param_index[id(p)] = i
            name, mod = models.pnames.get(id(p), (f"param[{i}]", ""))
            owner = models.pmodule.get(id(p))
            entries.append(
                ParamInfo(
                    i=i,
                    name=name,
                    module=mod,
                    shape=list(p.shape),
                    requires_grad=bool(p.requires_grad),
                    weighted=bool(
                        owner is not None and isinstance(owner, WEIGHTED) and p is getattr(owner, "weight", None)
                    ),
                    order=models.layer_order.get(id(p)),
                    site=sites.code_site(models.site_of(owner)),
                )
            )
        self.tracer.emit(
            OptimizerParams(
                optimizer=info.index,
                name=info.name,
                site=sites.code_site(info.site),
                lr=[_lr(g) for g in opt.param_groups],
                params=entries,
            )
        )

    # ------------------------------------------------------------------ before the step
    def step_pre(self, opt: Any, args: Any, kwargs: Any) -> None:
        t = self.tracer
        if not t.active:
            return
        if t.stopped:
            t.check_stopped()
            return
        if t.waiting:
            return
        t.guarded("step-pre", self._step_pre_body, opt)

    def _step_pre_body(self, opt: Any) -> None:
        t = self.tracer
        info = self.info(opt)
        t.event(OptimizerStepCall(optimizer=info.index, site=sites.code_site(sites.user_site())))
        params = self.params(opt)
        if info.steps == 0 and not info.sample:
            t.grads.sample(info, params)
        trainable = [p for p in params if p.requires_grad]
        grads = [p.grad for p in trainable]
        dense = [i for i, g in enumerate(grads) if g is not None and not g.is_sparse]
        norms = torch._foreach_norm([grads[i].detach() for i in dense]) if dense else []  # type: ignore[union-attr]
        snapshot = [p.detach().clone() for p in trainable]
        received = [t.grads.received(p) for p in trainable]
        first = info.steps == 0
        init_stats: List[Tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        if first:
            layer_order = t.models.layer_order
            for i, p in enumerate(trainable):
                if p.dim() >= 2 and layer_order.get(id(p)) is not None:
                    w = p.detach().reshape(p.shape[0], -1).float()
                    g = grads[i]
                    rows_same = torch.zeros((), device=p.device)
                    if g is not None and g.shape[0] > 1:
                        gr = g.detach().reshape(g.shape[0], -1).float()
                        spread = (gr - gr[:1]).abs().max()
                        rows_same = (spread <= 1e-6 * (gr.abs().max() + 1e-12)).float()
                    init_stats.append((i, w.std(), (w.max() - w.min()).abs(), rows_same))
        info.pre = (trainable, dense, norms, snapshot, received, init_stats, t.backward_since_step)

    # ------------------------------------------------------------------ after the step
    def step_post(self, opt: Any, args: Any, kwargs: Any) -> None:
        t = self.tracer
        if not t.active or t.stopped:
            return
        if t.waiting:
            t.wait_steps += 1
            if t.eval_seen or t.wait_steps >= t.eval_wait or t.wait_expired():
                t.stop(StopReason.STEPS)
            return
        t.guarded("step-post", self._step_post_body, opt)
        if t.target_reached():
            if t.eval_wait and not t.eval_seen and not t.wait_expired():
                t.start_wait()
            else:
                t.stop(StopReason.STEPS)

    def _step_post_body(self, opt: Any) -> None:
        t = self.tracer
        info = self.info(opt)
        info.steps += 1
        t.total_steps += 1
        pre, info.pre = info.pre, None
        info.cleared = set()
        t.backward_since_step = 0
        t.backward.no_step_snapshot = None
        if pre is None:
            return
        trainable, dense, norms, snapshot, received, init_stats, backwards = pre
        if not info.reported_params:
            # Reported after the first step, not before: with a closure (LBFGS) the model's
            # first forward pass, which names the parameters, runs inside step().
            self._report_params(opt, info, self.params(opt))
        after = [p.detach() for p in trainable]
        n = len(trainable)
        # One stacked read-back for all per-parameter norms: gradients, updates, weights. A
        # parameter that became NaN/Inf in the step shows as a non-finite update norm.
        blocks: List[torch.Tensor] = []
        if n:
            wnorms = torch.stack(torch._foreach_norm(snapshot))
            torch._foreach_sub_(snapshot, after)  # the copy becomes -update: no new allocation
            blocks += [torch.stack(torch._foreach_norm(snapshot)), wnorms]
        if norms:
            blocks.append(torch.stack(list(norms)))
        for i, std, rng, same in init_stats:
            t.deferred.add((Measure.INIT_STD, i), std)
            t.deferred.add((Measure.INIT_RANGE, i), rng)
            t.deferred.add((Measure.ROWS_SAME, i), same)
        acts, act_values = t.acts.values()
        if act_values is not None:
            blocks.append(act_values)
        flat, values = t.resolve(blocks)
        index = {id(p): info.param_index.get(id(p), -1) for p in trainable}
        per: Dict[int, ParamStep] = {}
        for i, p in enumerate(trainable):
            per[i] = ParamStep(i=index[id(p)], grad=None, received=received[i])
        if n:
            for i in range(n):
                per[i].delta = probes.number(flat[i])
                per[i].w = probes.number(flat[n + i])
            for j, i in enumerate(dense):
                per[i].grad = probes.number(flat[2 * n + j])
        stale, fresh, losses, clip_norms = self._file_measures(values, info, per)
        total = _total_norm([per[i].grad for i in per])
        t.emit(
            StepRecord(
                step=t.total_steps,
                optimizer=info.index,
                opt_step=info.steps,
                backwards=backwards,
                grad_total=probes.number(total) if total is not None else None,
                lr=[_lr(g) for g in opt.param_groups],
                params=list(per.values())[:MAX_PARAMS_REPORTED],
                stale=[s for s in stale if s.stale_norm != 0.0],
                checked_clear=fresh + sum(1 for s in stale if s.stale_norm == 0.0),
                losses=losses,
                clip_norms=clip_norms,
            )
        )
        if acts and act_values is not None:
            t.acts.emit(acts, flat[len(flat) - act_values.numel() :])
        if not t.nonfinite_reported:
            self._find_nonfinite_params(trainable, per)

    @staticmethod
    def _file_measures(
        values: List[Tuple[Any, float]], info: OptInfo, per: Dict[int, ParamStep]
    ) -> Tuple[List[StaleGrad], int, List[Number], List[Number]]:
        """Files the deferred values read back after the step: per-parameter init statistics
        (into `per`), then (stale gradients, fresh clears, losses, clip norms)."""
        stale: List[StaleGrad] = []
        fresh = 0
        losses: List[Number] = []
        clip_norms: List[Number] = []
        for key, val in values:
            tag = key[0]
            if tag == Measure.INIT_STD:
                per[key[1]].init_std = probes.number(val)
            elif tag == Measure.INIT_RANGE:
                per[key[1]].init_range = probes.number(val)
            elif tag == Measure.ROWS_SAME:
                per[key[1]].rows_same = probes.number(val)
            elif tag == Measure.STALE and key[1] == info.index:
                stale.append(StaleGrad(i=info.param_index.get(key[2], -1), stale_norm=probes.number(val)))
            elif tag == Measure.INCOMING and key[1] == info.index and stale:
                stale[-1].new_norm = probes.number(val)
            elif tag == Measure.FRESH and key[1] == info.index:
                fresh += 1
            elif tag == Measure.LOSS:
                losses.append(probes.number(val))
            elif tag == Measure.CLIP_NORM:
                clip_norms.append(probes.number(val))
        return stale, fresh, losses, clip_norms

    def _find_nonfinite_params(self, trainable: List[torch.Tensor], per: Dict[int, ParamStep]) -> None:
        models = self.tracer.models
        for where in (NonFiniteAt.GRADIENT, NonFiniteAt.PARAMETER):
            for i, p in enumerate(trainable):
                v = per[i].grad if where == NonFiniteAt.GRADIENT else per[i].delta
                if isinstance(v, str):
                    name, _ = models.pnames.get(id(p), (f"param[{i}]", ""))
                    owner = models.pmodule.get(id(p))
                    self.tracer.nonfinite(where, name, models.site_of(owner) if owner is not None else None, value=v)
                    return


def _lr(group: Dict[str, Any]) -> Any:
    lr = group.get("lr")
    if isinstance(lr, torch.Tensor):
        lr = float(lr.detach().reshape(-1)[0])
    return probes.number(float(lr)) if isinstance(lr, (int, float)) else None


def _total_norm(norms: List[Any]) -> Optional[float]:
    vals = [n for n in norms if n is not None]
    if not vals:
        return None
    if any(isinstance(v, str) for v in vals):
        return float("nan")
    return float(sum(float(v) ** 2 for v in vals) ** 0.5)


def install(tracer: Tracer, patcher: Patcher) -> None:
    """Where each optimizer is built: the optimizer's findings point at that line."""

    def optimizer_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if tracer.active:
                try:
                    tracer.optim.opt_site[self] = sites.user_site(skip_self_of=self)
                    tracer.optim.info(self)
                except Exception:
                    pass

        return init

    patcher.replace(torch.optim.Optimizer, "__init__", optimizer_init)
