"""Activation statistics: dead ReLU units, saturated sigmoid/tanh outputs, and the spread of
each weighted layer's output in the first training pass.

Counts stay on the tensors' device and are read back with the step's other numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.layers import ACTIVATIONS
from trainlint.runtime.child.probes import Measure
from trainlint.runtime.records import Activation, ActivationLayer, ActivationLayers

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer


@dataclass
class ActInfo:
    activation: str
    name: str
    site: Optional[sites.Site]
    active_counts: Optional[torch.Tensor] = None
    samples: int = 0
    saturated_sum: Optional[torch.Tensor] = None
    calls: int = 0


class ActivationWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.acts: Dict[int, ActInfo] = {}

    def observe(self, module: nn.Module, x: torch.Tensor) -> None:
        """A leaf layer's output (gradients on): counted if the layer is an activation."""
        for cls, kind in ACTIVATIONS:
            if isinstance(module, cls):
                self._count(module, kind, x)
                break

    def _count(self, module: nn.Module, kind: str, x: torch.Tensor) -> None:
        if x.dim() < 2:
            return
        models = self.tracer.models
        info = self.acts.get(id(module))
        if info is None:
            info = ActInfo(kind, models.names.get(id(module), type(module).__name__), models.site_of(module))
            self.acts[id(module)] = info
        info.calls += 1
        if kind == Activation.RELU:
            # Per unit: in how many samples it was active (SageMaker's DeadRelu counts a unit
            # as dead when it is active in less than 1% of them). ReLU outputs are >= 0, so
            # "active" is "non-zero".
            per_sample = x if x.dim() == 2 else x.flatten(2).amax(dim=2)
            counts = torch.count_nonzero(per_sample, dim=0)
            if info.active_counts is None or info.active_counts.shape != counts.shape:
                info.active_counts, info.samples = counts, 0
            else:
                info.active_counts = info.active_counts + counts
            info.samples += int(x.shape[0])
        else:
            eps = float(self.tracer.opt("TL905", "epsilon", 0.01))
            if kind == Activation.SIGMOID:
                sat = ((x < eps) | (x > 1 - eps)).float().mean()
            else:
                sat = (x.abs() > 1 - eps).float().mean()
            info.saturated_sum = sat if info.saturated_sum is None else info.saturated_sum + sat

    def measure_std(self, mid: int, order: int, x: torch.Tensor) -> None:
        """The std and mean of a weighted layer's output in the first training pass (read back
        later). `std_mean` computes the mean on its way to the std: the mean costs nothing more."""
        if x.numel() > 1:
            std, mean = torch.std_mean(x.float())
            self.tracer.deferred.add((Measure.ACT_MEAN, mid, order), mean)
            self.tracer.deferred.add((Measure.ACT_STD, mid, order), std)

    def values(self) -> Tuple[List[ActInfo], Optional[torch.Tensor]]:
        """Each activation layer's dead or saturated fraction, then each ReLU's count of active
        outputs, stacked, not yet read back."""
        layers = []
        pending: List[torch.Tensor] = []
        zeros: List[torch.Tensor] = []
        inactivity = float(self.tracer.opt("TL904", "inactivity", 0.01))
        for info in self.acts.values():
            if info.activation == Activation.RELU and info.active_counts is not None:
                counts = info.active_counts
                pending.append((counts < inactivity * max(info.samples, 1)).float().mean())
                # The same counts give the fraction of zero outputs: one small sum per layer
                # (divided on the Python side, where samples and units are known).
                zeros.append(counts.sum(dtype=torch.float32))
            elif info.saturated_sum is not None:
                pending.append(info.saturated_sum / max(info.calls, 1))
            else:
                continue
            layers.append(info)
        pending += zeros
        if not pending:
            return [], None
        if any(p.device != pending[0].device for p in pending):
            pending = [p.cpu() for p in pending]
        return layers, torch.stack(pending)

    def emit(self, layers: Optional[List[ActInfo]] = None, values: Optional[List[float]] = None) -> None:
        if layers is None or values is None:
            layers, stacked = self.values()
            values = probes.read_blocks([stacked]) if stacked is not None else []
        if not layers:
            return
        out = []
        zeros = iter(values[len(layers) :])
        for info, v in zip(layers, values):
            entry = ActivationLayer(
                name=info.name, activation=info.activation, site=sites.code_site(info.site), calls=info.calls
            )
            if info.activation == Activation.RELU:
                entry.dead_fraction = probes.number(v)
                active = next(zeros, None)
                entry.samples = info.samples
                entry.units = int(info.active_counts.numel()) if info.active_counts is not None else 0
                if active is not None and entry.samples * entry.units:
                    entry.zero_fraction = probes.number(1.0 - active / (entry.samples * entry.units))
            else:
                entry.saturated_fraction = probes.number(v)
            out.append(entry)
        tracer = self.tracer
        tracer.emit(ActivationLayers(step=tracer.total_steps, layers=out))
