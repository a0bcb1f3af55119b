"""The models: global forward hooks, the names and build sites of modules and parameters, the
first input batch, and each leaf layer's output (handed to the flow and activation watchers).

A model is a module with parameters called outside any other module (depth 1). Its forward
pass is a `ForwardPass`; the pass watcher later tells training from evaluation passes.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple

import torch
import torch.nn as nn

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.flow import Flow
from trainlint.runtime.child.layers import BATCH_NORM, DROP_OR_NORM, WEIGHTED
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.child.probes import Measure
from trainlint.runtime.records import (
    CodeSite,
    InputBatch,
    ModelParam,
    ModelParams,
    NormBatch,
    NormReuse,
    PassKind,
    StopReason,
    TensorStats,
)

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer

MAX_PARAMS_REPORTED = 5000
# Autograd nodes walked back from a BatchNorm call's input to find an earlier call's output.
MAX_GRAPH_WALK = 5000
_MAX_PENDING = 4096  # deferred values before an early read-back

# Wrappers that run a copy of the model per device or per process.
DATA_PARALLEL = ("DistributedDataParallel", "DataParallel")


@dataclass
class RootInfo:
    """A model, and its forward passes counted by (PassKind, training mode)."""

    label: str
    has_drop_or_norm: bool
    input_reported: bool = False
    passes: Dict[Tuple[str, bool], int] = field(default_factory=dict)
    first: Dict[Tuple[str, bool], Optional[CodeSite]] = field(default_factory=dict)


@dataclass
class ForwardPass:
    """The model forward pass under way."""

    root: int  # id of the model
    grad: bool  # gradients enabled
    training: bool
    first: bool  # the model's first pass with gradients on
    order: int = 0  # weighted layers seen so far in a first pass
    flow: Optional[Flow] = None
    # First pass, BatchNorm layers in training mode: id(layer) -> the autograd nodes of its
    # outputs so far (held until the pass ends), and the layers called again on their own output.
    norm_outs: Dict[int, List[Any]] = field(default_factory=dict)
    norm_chains: Dict[int, "NormChain"] = field(default_factory=dict)


@dataclass
class NormChain:
    module: nn.Module
    calls: int  # the first call, and each later call whose input depends on an earlier output
    called_at: Optional[sites.Site]


class ModelWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.depth = 0
        self.mstack: List[nn.Module] = []
        self.module_site: "weakref.WeakKeyDictionary[Any, Optional[sites.Site]]" = weakref.WeakKeyDictionary()
        self.roots: Dict[int, RootInfo] = {}
        self.root_refs: Dict[int, Any] = {}
        self.names: Dict[int, str] = {}  # id(module) -> qualified name
        self.labels: Dict[str, List[Any]] = {}  # class name -> the models named after it, weakly
        self.pnames: Dict[int, Tuple[str, str]] = {}  # id(param) -> (name, owning module name)
        self.pmodule: Dict[int, nn.Module] = {}
        self.layer_order: Dict[int, int] = {}  # id(weight param) -> forward order of its layer
        self.norm_batch: Dict[int, int] = {}  # id(BatchNorm layer) -> largest training batch seen
        # id(output) -> (the output, weakly; layer name, layer type). The output itself is checked:
        # once it is freed, its id may be handed to an unrelated tensor.
        self.producer: Dict[int, Tuple[Any, str, str]] = {}
        self.current_pass: Optional[ForwardPass] = None
        self.first_train_pass: Set[int] = set()
        self.first_root_args: Dict[int, Any] = {}  # overfit mode: each model's first inputs

    def site_of(self, obj: Any) -> Optional[sites.Site]:
        """Where a module was built (None when unknown, or for unhashable module classes)."""
        if obj is None:
            return None
        try:
            return self.module_site.get(obj)
        except TypeError:
            return None

    def producer_of(self, t: torch.Tensor) -> Optional[Tuple[str, str]]:
        """(layer name, layer type) of the leaf layer that output `t` in this forward pass."""
        entry = self.producer.get(id(t))
        if entry is None or entry[0]() is not t:
            return None
        return entry[1], entry[2]

    def module_by_id(self, mid: int) -> Optional[nn.Module]:
        for m in self.mstack:
            if id(m) == mid:
                return m
        for owner in self.pmodule.values():
            if id(owner) == mid:
                return owner
        for ref in self.root_refs.values():
            root = ref()
            if root is None:
                continue
            for m in root.modules():
                if id(m) == mid:
                    return m
        return None

    # ------------------------------------------------------------------ the global hooks
    def pre_hook(self, module: nn.Module, args: Any) -> Any:
        t = self.tracer
        if not t.active:
            return None
        if t.stopped:
            t.check_stopped()
            return None
        if t.waiting and self.depth == 0 and t.wait_expired():
            t.stop(StopReason.STEPS)  # a long evaluation with no optimizer step must not run into the timeout
            return None
        self.depth += 1
        self.mstack.append(module)
        if self.depth == 1:
            return t.guarded("root-pre", self._root_pre, module, args)
        cur = self.current_pass
        if cur is not None and cur.flow is not None and not module._modules:
            t.guarded("flow-in", t.flow.enter, cur.flow, module, args)
        return None

    def post_hook(self, module: nn.Module, args: Any, output: Any) -> None:
        t = self.tracer
        if not t.active or self.depth == 0:
            return
        self.depth -= 1
        if self.mstack:
            self.mstack.pop()
        if not module._modules and not t.waiting:
            cur = self.current_pass
            if cur is not None and cur.flow is not None:
                t.guarded("flow-out", t.flow.leave, cur.flow, module, output)
            t.guarded("leaf", self._leaf_post, module, args, output)
        if self.depth == 0:
            t.guarded("root-post", self._root_post, module, output)

    # ------------------------------------------------------------------ models
    def _is_model(self, module: nn.Module) -> bool:
        if isinstance(module, nn.modules.loss._Loss):
            return False
        return next(module.parameters(), None) is not None

    def _unique_label(self, label: str, model: nn.Module) -> str:
        """A model's name: its class, then `Sequential#2`, `Sequential#3`... for other models of
        the same class (a GAN's generator and discriminator), so that their parameters are
        told apart. A model that shares the first one's parameters (a slice of it) is not
        another model."""
        taken = self.labels.setdefault(label, [])
        params = {id(p) for p in model.parameters()}
        for k, ref in enumerate(taken):
            other = ref()
            if other is model or (other is not None and params & {id(p) for p in other.parameters()}):
                return label if k == 0 else f"{label}#{k + 1}"
        taken.append(weakref.ref(model))
        return label if len(taken) == 1 else f"{label}#{len(taken)}"

    def _register_root(self, module: nn.Module) -> RootInfo:
        # A data-parallel wrapper is named after the model it holds, and so are its layers
        # (`head.weight`, not `DistributedDataParallel.module.head.weight`).
        wrapper = type(module).__name__ if type(module).__name__ in DATA_PARALLEL else ""
        held = getattr(module, "module", None) if wrapper else None
        inner: nn.Module = held if isinstance(held, nn.Module) else module
        label = self._unique_label(type(inner).__name__, inner)
        info = RootInfo(label=label, has_drop_or_norm=any(isinstance(m, DROP_OR_NORM) for m in module.modules()))
        self.roots[id(module)] = info
        self.root_refs[id(module)] = weakref.ref(module)
        self.names.setdefault(id(module), label)
        for name, sub in inner.named_modules():
            self.names.setdefault(id(sub), f"{label}.{name}" if name else label)
            for pname, p in sub.named_parameters(recurse=False):
                pid = id(p)
                if pid not in self.pnames:
                    full = f"{label}.{name}.{pname}" if name else f"{label}.{pname}"
                    self.pnames[pid] = (full, self.names[id(sub)])
                    self.pmodule[pid] = sub
                self.tracer.grads.watch(p)
        params = [
            ModelParam(
                name=self.pnames[id(p)][0],
                requires_grad=bool(p.requires_grad),
                site=sites.code_site(self.site_of(self.pmodule.get(id(p)))),
            )
            for p in module.parameters()
        ][:MAX_PARAMS_REPORTED]
        self.tracer.emit(
            ModelParams(
                model=label,
                params=params,
                site=sites.code_site(self.site_of(module)),
                has_drop_or_norm=info.has_drop_or_norm,
                wrapper=wrapper,
                find_unused_parameters=bool(getattr(module, "find_unused_parameters", False)),
                static_graph=bool(getattr(module, "static_graph", False)),
            )
        )
        return info

    def _root_pre(self, module: nn.Module, args: Any) -> Any:
        t = self.tracer
        if not self._is_model(module):
            self.current_pass = None
            return None
        mid = id(module)
        info = self.roots.get(mid) or self._register_root(module)
        grad = torch.is_grad_enabled()
        self.producer.clear()
        cur = self.current_pass = ForwardPass(
            root=mid, grad=grad, training=module.training, first=grad and mid not in self.first_train_pass
        )
        replaced = None
        if t.overfit and grad and not t.loader_used:
            replaced = self._overfit_args(mid, args)
        if grad and not info.input_reported and not t.waiting:
            info.input_reported = True
            self._report_input(info, args)
        if cur.first and not t.waiting:
            # Follow, in this first training pass only, which layers take the model's input and
            # which weighted layers feed a normalisation layer directly.
            cur.flow = t.flow.start(args)
            t.views.start(info.label)
        return replaced

    def _overfit_args(self, mid: int, args: Any) -> Any:
        first = self.first_root_args.get(mid)
        if first is None:
            self.first_root_args[mid] = args
            return None
        if _same_structure(first, args):
            return first
        return None

    def _report_input(self, info: RootInfo, args: Any) -> None:
        tensors: List[TensorStats] = []
        for name, t in probes.tensors_in(args):
            if len(tensors) >= 8:
                break
            entry = probes.summary(t)
            entry.name = name
            tensors.append(entry)
        tracer = self.tracer
        tracer.emit(
            InputBatch(
                model=info.label,
                site=sites.code_site(sites.user_site()),
                tensors=tensors,
                step=tracer.total_steps,
            )
        )

    def _leaf_post(self, module: nn.Module, args: Any, output: Any) -> None:
        cur = self.current_pass
        if cur is None or not cur.grad:
            return
        t = output if isinstance(output, torch.Tensor) else probes.first_tensor(output)
        if t is None or not t.is_floating_point() or t.numel() == 0:
            return
        tracer = self.tracer
        mid = id(module)
        self.producer[id(t)] = (weakref.ref(t), self.names.get(mid, type(module).__name__), type(module).__name__)
        x = t.detach()
        if not tracer.nonfinite_reported:
            # A NaN or Inf anywhere makes the sum non-finite: one pass, no mask tensor.
            tracer.deferred.add((Measure.FINITE, mid, tracer.total_steps + 1), x.sum(dtype=torch.float32))
        tracer.acts.observe(module, x)
        if module.training and isinstance(module, BATCH_NORM) and x.dim() >= 2:
            self._norm_batch(module, int(x.shape[0]))
            if cur.first and getattr(module, "running_mean", None) is not None:
                self._norm_reuse(cur, module, args, t)
        if cur.first and isinstance(module, WEIGHTED):
            weight = getattr(module, "weight", None)
            if isinstance(weight, torch.Tensor):
                cur.order += 1
                self.layer_order.setdefault(id(weight), cur.order)
                tracer.acts.measure_std(mid, cur.order, x)
        if len(tracer.deferred) > _MAX_PENDING:
            tracer.resolve()

    def _norm_batch(self, module: nn.Module, batch: int) -> None:
        mid = id(module)
        if batch <= self.norm_batch.get(mid, 0):
            return
        self.norm_batch[mid] = batch
        dist = torch.distributed
        world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
        self.tracer.emit(
            NormBatch(
                layer=self.names.get(mid, type(module).__name__),
                layer_type=type(module).__name__,
                batch=batch,
                synced=isinstance(module, nn.SyncBatchNorm),
                world_size=world,
                site=sites.code_site(self.site_of(module)),
            )
        )

    def _norm_reuse(self, cur: ForwardPass, module: nn.Module, args: Any, out: torch.Tensor) -> None:
        """A BatchNorm layer called again in the first pass: is its input computed from one of
        its earlier outputs (one layer after conv1 and after conv2), or independent of them
        (a siamese encoder on two inputs)? The autograd graph behind the input says."""
        mid = id(module)
        earlier = cur.norm_outs.setdefault(mid, [])
        x = probes.first_tensor(args)
        if earlier and x is not None and x.grad_fn is not None and _reaches(x.grad_fn, earlier):
            chain = cur.norm_chains.get(mid)
            if chain is None:
                chain = cur.norm_chains[mid] = NormChain(module, 1, sites.user_site())
            chain.calls += 1
        if out.grad_fn is not None:
            earlier.append(out.grad_fn)

    def _report_norm_reuse(self, model: str, cur: ForwardPass) -> None:
        for mid, chain in cur.norm_chains.items():
            m = chain.module
            self.tracer.emit(
                NormReuse(
                    model=model,
                    layer=self.names.get(mid, type(m).__name__),
                    layer_type=type(m).__name__,
                    calls=chain.calls,
                    site=sites.code_site(self.site_of(m)),
                    called_at=sites.code_site(chain.called_at),
                )
            )

    def _root_post(self, module: nn.Module, output: Any) -> None:
        cur = self.current_pass
        self.current_pass = None
        t = self.tracer
        t.views.stop()
        if cur is None or cur.root != id(module):
            return
        mid = id(module)
        info = self.roots[mid]
        if cur.flow is not None:
            t.flow.report(info.label, cur.flow)
        if cur.norm_chains:
            self._report_norm_reuse(info.label, cur)
        cur.norm_outs.clear()  # (the graph's nodes are not held past the pass)
        if cur.first:
            self.first_train_pass.add(mid)
        out = probes.first_tensor(output)
        grad_fn = out.grad_fn if isinstance(out, torch.Tensor) else None
        if not cur.grad:
            t.passes.count(info, PassKind.EVAL_NO_GRAD, module.training)  # can only be evaluation
            return
        if grad_fn is None:
            return  # gradients on but no graph (frozen model, integer output): nothing to judge
        t.passes.hold(mid, grad_fn, module.training, sites.user_site())


def _reaches(start: Any, targets: List[Any]) -> bool:
    """Whether walking the autograd graph back from `start` (at most MAX_GRAPH_WALK nodes)
    meets one of the `targets` nodes."""
    wanted = {id(n) for n in targets}
    seen = {id(start): start}  # (held, so that no id is handed to another node during the walk)
    todo = [start]
    while todo and len(seen) <= MAX_GRAPH_WALK:
        node = todo.pop()
        if id(node) in wanted:
            return True
        for nxt, _ in getattr(node, "next_functions", ()):
            if nxt is not None and id(nxt) not in seen:
                seen[id(nxt)] = nxt
                todo.append(nxt)
    return False


def _same_structure(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and a.device == b.device
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_structure(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_structure(a[k], b[k]) for k in a)
    return type(a) is type(b)


def install(tracer: Tracer, patcher: Patcher) -> None:
    """Where each module is built: the finding about a layer points at that line."""

    def module_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: nn.Module, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if tracer.active:
                try:
                    tracer.models.module_site[self] = sites.user_site(skip_self_of=self)
                except Exception:
                    pass

        return init

    patcher.replace(nn.Module, "__init__", module_init)
