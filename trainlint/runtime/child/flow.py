"""Where a model's input goes in its first training pass: which layers take it (through a
normalisation layer or not), and which weighted layers feed a normalisation layer directly.

Tensors are followed by identity from layer to layer, seeing through layers that only reshape
or drop (`PASS_THROUGH`). The verdicts on input normalisation and update ratios read the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Tuple

import torch
import torch.nn as nn

from trainlint.runtime.child import probes
from trainlint.runtime.child.layers import NORMS, PASS_THROUGH, WEIGHTED
from trainlint.runtime.records import FlowEdge, InputFlow

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer

_MAX_FLOW_EDGES = 64
_INPUT = "<input>"  # the source of a tensor that is (or passed unchanged from) the model's input


@dataclass
class Flow:
    # id(tensor) -> (the tensor, its source: a layer name or _INPUT, came through a norm layer)
    origin: Dict[int, Tuple[torch.Tensor, str, bool]]
    src: Dict[int, Tuple[str, bool]] = field(default_factory=dict)  # id(layer) -> source of its input
    input: List[FlowEdge] = field(default_factory=list)
    normed: Dict[str, str] = field(default_factory=dict)


class FlowWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def start(self, args: Any) -> Flow:
        return Flow(origin={id(t): (t, _INPUT, False) for _, t in probes.tensors_in(args)})

    def enter(self, flow: Flow, module: nn.Module, args: Any) -> None:
        """A leaf layer is called: does it take the input, or a weighted layer's output?"""
        origin = flow.origin
        srcs = [origin[id(t)][1:] for _, t in probes.tensors_in(args) if id(t) in origin and origin[id(t)][0] is t]
        if not srcs:
            return
        flow.src[id(module)] = srcs[0]
        name = self.tracer.models.names.get(id(module), type(module).__name__)
        is_norm = isinstance(module, NORMS)
        for src, via_norm in srcs:
            if src == _INPUT:
                if not isinstance(module, PASS_THROUGH) and len(flow.input) < _MAX_FLOW_EDGES:
                    entry = FlowEdge(
                        layer=name, layer_type=type(module).__name__, via_norm=bool(via_norm), is_norm=is_norm
                    )
                    if entry not in flow.input:
                        flow.input.append(entry)
            elif is_norm and len(flow.normed) < _MAX_FLOW_EDGES:
                flow.normed[src] = type(module).__name__

    def leave(self, flow: Flow, module: nn.Module, output: Any) -> None:
        """A leaf layer returned: its output carries on the source it passes through, or its own name."""
        src = flow.src.pop(id(module), None)
        t = output if isinstance(output, torch.Tensor) else probes.first_tensor(output)
        if t is None:
            return
        if src is not None and isinstance(module, PASS_THROUGH):
            flow.origin[id(t)] = (t, src[0], src[1])
        elif src is not None and src[0] == _INPUT and isinstance(module, NORMS):
            flow.origin[id(t)] = (t, _INPUT, True)
        elif isinstance(module, WEIGHTED):
            flow.origin[id(t)] = (t, self.tracer.models.names.get(id(module), type(module).__name__), False)

    def report(self, model: str, flow: Flow) -> None:
        self.tracer.event(InputFlow(model=model, input=flow.input, normed=flow.normed))
