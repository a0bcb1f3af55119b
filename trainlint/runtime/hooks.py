"""The tracer: global hooks and thin wrappers that watch a training run without editing it.

`Tracer.install()` registers global module forward hooks, global optimizer step hooks and
per-parameter gradient hooks, and wraps the few torch functions whose call order matters
(backward, zero_grad, scheduler/scaler steps, clipping, functional losses, dropout, custom
autograd Functions). Everything observed is sent to a sink as small JSON-able records, as it
is gathered, so a script that dies still leaves its evidence behind. `uninstall()` puts back
every hook and original function.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Set, Tuple

import torch
import torch.nn as nn
from torch.nn.modules import module as module_hooks
from torch.optim import optimizer as optim_hooks

from trainlint.runtime import probes, sites
from trainlint.runtime.patching import Patcher
from trainlint.runtime.probes import Deferred

_ACT_KINDS: Tuple[Tuple[type, str], ...] = (
    (nn.ReLU, "relu"),
    (nn.ReLU6, "relu"),
    (nn.Sigmoid, "sigmoid"),
    (nn.Tanh, "tanh"),
)
_WEIGHTED = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)
_DROP_OR_NORM = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)
# Layers that normalise what they are given (batch, layer, group, instance, RMS norms).
_NORMS: Tuple[type, ...] = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm) + (
    (nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()
)
# Layers that pass their input on unchanged in kind (shape changes, dropout): seen through
# when following where the model's input and each layer's output go.
_PASS_THROUGH = (nn.Flatten, nn.Unflatten, nn.Identity, nn.modules.dropout._DropoutNd)
_MAX_FLOW_EDGES = 64
_MAX_EVENTS = 4000
_MAX_PENDING = 4096
_MAX_PENDING_PASSES = 4
_SAMPLE_PARAMS = 8
FULL_LOSS_CALLS = 3
_MAX_PARAMS_REPORTED = 5000


class TraceStop(BaseException):
    """Raised into the traced script once the requested steps are done.

    Derived from BaseException so that a script's `except Exception:` does not swallow it.
    """


class Sink(Protocol):
    def emit(self, record: Dict[str, Any]) -> None: ...


class ListSink:
    """Keeps records in memory (the in-process API)."""

    def __init__(self) -> None:
        self.records: List[Dict[str, Any]] = []

    def emit(self, record: Dict[str, Any]) -> None:
        self.records.append(record)


@dataclass
class OptInfo:
    index: int
    name: str
    site: Optional[sites.Site]
    steps: int = 0
    reported_params: bool = False
    sample: List[torch.Tensor] = field(default_factory=list)
    sample_ids: Set[int] = field(default_factory=set)
    cleared: Set[int] = field(default_factory=set)
    checked: Dict[int, int] = field(default_factory=dict)
    param_index: Dict[int, int] = field(default_factory=dict)
    pre: Optional[Tuple[Any, ...]] = None


@dataclass
class RootInfo:
    label: str
    has_drop_or_norm: bool
    seen_train_pass: bool = False
    input_reported: bool = False
    passes: Dict[str, int] = field(default_factory=dict)
    first: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ActInfo:
    kind: str
    name: str
    site: Optional[sites.Site]
    active_counts: Optional[torch.Tensor] = None
    samples: int = 0
    saturated_sum: Optional[torch.Tensor] = None
    calls: int = 0


class Tracer:
    def __init__(
        self,
        sink: Sink,
        steps: int = 2,
        overfit: int = 0,
        options: Optional[Dict[str, Dict[str, Any]]] = None,
        mode: str = "api",
        eval_wait: int = 0,
        eval_wait_seconds: Optional[float] = None,
    ) -> None:
        self.sink = sink
        self.overfit = overfit
        self.steps = overfit if overfit else steps
        self.options = options or {}
        self.mode = mode  # "child": a stop swallowed by the script ends the process; "api": go passive
        self.active = False
        self.stopped = False
        self.finished = False
        # Waiting for an evaluation pass: some suspicions (eval mode, no_grad, functional dropout)
        # can only be judged on one, and scripts often evaluate once per epoch. Past the
        # requested steps the run may go on for up to `eval_wait` optimizer steps (and until
        # `eval_wait_seconds` after install) watching only forward passes, until one is seen.
        self.eval_wait = 0 if overfit else max(0, eval_wait)
        self.eval_wait_seconds = eval_wait_seconds
        self.eval_seen = False
        self.waiting = False
        self.wait_steps = 0
        self.installed_at = time.monotonic()
        self.pid = os.getpid()
        self._lock = threading.RLock()
        self._handles: List[Any] = []
        self._grad_handles: List[Any] = []
        self._patcher = Patcher()
        self.deferred = Deferred()
        self.events = 0
        # module bookkeeping
        self.depth = 0
        self.mstack: List[nn.Module] = []
        self.module_site: "weakref.WeakKeyDictionary[Any, Optional[sites.Site]]" = weakref.WeakKeyDictionary()
        self.opt_site: "weakref.WeakKeyDictionary[Any, Optional[sites.Site]]" = weakref.WeakKeyDictionary()
        self.roots: Dict[int, RootInfo] = {}
        self.root_refs: Dict[int, Any] = {}
        self.names: Dict[int, str] = {}  # id(module) -> qualified name
        self.pnames: Dict[int, Tuple[str, str]] = {}  # id(param) -> (name, owning module name)
        self.pmodule: Dict[int, nn.Module] = {}
        self.hooked: Set[int] = set()
        self.got_grad: Set[int] = set()
        self.layer_order: Dict[int, int] = {}  # id(weight param) -> forward order of its layer
        self.producer: Dict[int, Tuple[str, str]] = {}
        self.acts: Dict[int, ActInfo] = {}
        self.pending_passes: List[Tuple[int, Any, bool, Optional[sites.Site]]] = []
        self.current_pass: Optional[Dict[str, Any]] = None
        self.first_train_pass: Set[int] = set()
        self.nonfinite_reported = False
        # optimisation bookkeeping
        self.opts: Dict[int, OptInfo] = {}
        self.opt_refs: Dict[int, Any] = {}
        self.opt_count = 0
        self.total_steps = 0
        self.backward_count = 0
        self.backward_since_step = 0
        self.sched_last: Dict[int, int] = {}
        self.sched_constructing = 0
        self.scaled: Dict[int, Any] = {}
        self.losses_since_step: List[int] = []
        self.in_wrapper = threading.local()
        self.loss_calls: Dict[Tuple[str, str, int], int] = {}
        # manual-update mode (no optimizer): leaf snapshots between backward passes
        self.manual_prev: Optional[Tuple[List[torch.Tensor], List[torch.Tensor], List[Optional[torch.Tensor]]]] = None
        self.no_step_snapshot: Optional[Tuple[List[torch.Tensor], List[torch.Tensor]]] = None
        self.no_step_reported = False
        # custom autograd Functions: class -> (args, kwargs, site) of their first call
        self.functions: Dict[type, Tuple[Any, Any, Optional[sites.Site]]] = {}
        self.functions_checked = False
        # overfit-one-batch mode
        self.loader_used = False
        self.first_root_args: Dict[int, Any] = {}
        self.first_targets: Dict[Tuple[str, str, int], Any] = {}
        self._fork_registered = False

    # ------------------------------------------------------------------ plumbing
    @property
    def recording(self) -> bool:
        """Call-order evidence is gathered: active, not stopped, not just waiting for an evaluation pass."""
        return self.active and not self.stopped and not self.waiting

    def site_of(self, obj: Any) -> Optional[sites.Site]:
        """Where a module was built (None when unknown, or for unhashable module classes)."""
        if obj is None:
            return None
        try:
            return self.module_site.get(obj)
        except TypeError:
            return None

    def opt(self, code: str, key: str, default: Any) -> Any:
        return self.options.get(code, {}).get(key, default)

    def emit(self, record: Dict[str, Any]) -> None:
        if os.getpid() != self.pid:
            return
        try:
            self.sink.emit(record)
        except Exception:  # a broken channel must not break the user's script
            pass

    def event(self, ev: str, **data: Any) -> None:
        self.events += 1
        if self.events > _MAX_EVENTS:
            return
        rec: Dict[str, Any] = {
            "kind": "event",
            "ev": ev,
            "seq": self.events,
            "step": self.total_steps,
            "backward": self.backward_count,
        }
        rec.update(data)
        self.emit(rec)

    def internal(self, where: str, exc: BaseException) -> None:
        self.emit({"kind": "internal", "where": where, "error": f"{type(exc).__name__}: {exc}"})

    def _guarded(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except TraceStop:
            raise
        except Exception as exc:  # tracer defects are reported, never raised into the script
            self.internal(where, exc)
            return None

    def _check_stopped(self) -> None:
        """The script caught the stop and kept going: end it (child) or stop watching (API)."""
        if not self.stopped:
            return
        if self.mode == "child":
            self.emit({"kind": "stop_swallowed"})
            import sys

            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(0)
        self.active = False

    def _after_fork(self) -> None:
        # DataLoader workers and other forked children inherit the hooks; they must not
        # count steps or send evidence.
        self.active = False

    # ------------------------------------------------------------------ install
    def install(self) -> None:
        from trainlint.runtime import wrappers

        self.active = True
        self.pid = os.getpid()
        self.installed_at = time.monotonic()
        sites._library_roots = None
        h = self._handles
        h.append(module_hooks.register_module_forward_pre_hook(self._pre_hook))
        h.append(module_hooks.register_module_forward_hook(self._post_hook, always_call=True))
        h.append(optim_hooks.register_optimizer_step_pre_hook(self._step_pre))
        h.append(optim_hooks.register_optimizer_step_post_hook(self._step_post))
        wrappers.install_all(self, self._patcher)
        if not self._fork_registered:
            ref = weakref.ref(self)

            def after_fork() -> None:
                tracer = ref()
                if tracer is not None:
                    tracer._after_fork()

            os.register_at_fork(after_in_child=after_fork)
            self._fork_registered = True

    def uninstall(self) -> None:
        self.active = False
        for handle in self._handles + self._grad_handles:
            try:
                handle.remove()
            except Exception:
                pass
        self._handles.clear()
        self._grad_handles.clear()
        self._patcher.restore()

    # ------------------------------------------------------------------ modules
    def _pre_hook(self, module: nn.Module, args: Any) -> Any:
        if not self.active:
            return None
        if self.stopped:
            self._check_stopped()
            return None
        if self.waiting and self.depth == 0 and self._wait_expired():
            self.stop("steps")  # a long evaluation with no optimizer step must not run into the timeout
            return None
        self.depth += 1
        self.mstack.append(module)
        if self.depth == 1:
            return self._guarded("root-pre", self._root_pre, module, args)
        cur = self.current_pass
        if cur is not None and "flow" in cur and not module._modules:
            self._guarded("flow-in", self._flow_in, cur["flow"], module, args)
        return None

    def _post_hook(self, module: nn.Module, args: Any, output: Any) -> None:
        if not self.active or self.depth == 0:
            return
        self.depth -= 1
        if self.mstack:
            self.mstack.pop()
        if not module._modules and not self.waiting:
            cur = self.current_pass
            if cur is not None and "flow" in cur:
                self._guarded("flow-out", self._flow_out, cur["flow"], module, output)
            self._guarded("leaf", self._leaf_post, module, output)
        if self.depth == 0:
            self._guarded("root-post", self._root_post, module, output)

    def _is_model(self, module: nn.Module) -> bool:
        if isinstance(module, nn.modules.loss._Loss):
            return False
        return next(module.parameters(), None) is not None

    def _register_root(self, module: nn.Module) -> RootInfo:
        label = type(module).__name__
        info = RootInfo(label=label, has_drop_or_norm=any(isinstance(m, _DROP_OR_NORM) for m in module.modules()))
        self.roots[id(module)] = info
        self.root_refs[id(module)] = weakref.ref(module)
        for name, sub in module.named_modules():
            self.names.setdefault(id(sub), f"{label}.{name}" if name else label)
            for pname, p in sub.named_parameters(recurse=False):
                pid = id(p)
                if pid not in self.pnames:
                    full = f"{label}.{name}.{pname}" if name else f"{label}.{pname}"
                    self.pnames[pid] = (full, self.names[id(sub)])
                    self.pmodule[pid] = sub
                if pid not in self.hooked and p.requires_grad:
                    self.hooked.add(pid)
                    self._grad_handles.append(p.register_post_accumulate_grad_hook(self._grad_hook))
        params = [
            {
                "name": self.pnames[id(p)][0],
                "requires_grad": bool(p.requires_grad),
                "site": sites.site_json(self.site_of(self.pmodule.get(id(p)))),
            }
            for p in module.parameters()
        ][:_MAX_PARAMS_REPORTED]
        self.emit(
            {
                "kind": "model",
                "model": label,
                "params": params,
                "site": sites.site_json(self.site_of(module)),
                "has_drop_or_norm": info.has_drop_or_norm,
            }
        )
        return info

    def _grad_hook(self, param: torch.Tensor) -> None:
        if self.active:
            self.got_grad.add(id(param))

    def _root_pre(self, module: nn.Module, args: Any) -> Any:
        if not self._is_model(module):
            self.current_pass = None
            return None
        mid = id(module)
        info = self.roots.get(mid) or self._register_root(module)
        grad = torch.is_grad_enabled()
        self.producer.clear()
        self.current_pass = {
            "root": mid,
            "grad": grad,
            "training": module.training,
            "first": grad and mid not in self.first_train_pass,
            "order": 0,
        }
        replaced = None
        if self.overfit and grad and not self.loader_used:
            replaced = self._overfit_args(mid, args)
        if grad and not info.input_reported and not self.waiting:
            info.input_reported = True
            self._report_input(module, info, args)
        if self.current_pass["first"] and not self.waiting:
            # Follow, in this first training pass only, which layers take the model's input and
            # which weighted layers feed a normalisation layer directly.
            origin = {id(t): (t, "<input>", False) for _, t in probes.tensors_in(args)}
            self.current_pass["flow"] = {"origin": origin, "src": {}, "input": [], "normed": {}}
        return replaced

    def _flow_in(self, flow: Dict[str, Any], module: nn.Module, args: Any) -> None:
        origin = flow["origin"]
        srcs = [origin[id(t)][1:] for _, t in probes.tensors_in(args) if id(t) in origin and origin[id(t)][0] is t]
        if not srcs:
            return
        flow["src"][id(module)] = srcs[0]
        name = self.names.get(id(module), type(module).__name__)
        is_norm = isinstance(module, _NORMS)
        for src, via_norm in srcs:
            if src == "<input>":
                if not isinstance(module, _PASS_THROUGH) and len(flow["input"]) < _MAX_FLOW_EDGES:
                    entry = [name, type(module).__name__, bool(via_norm), is_norm]
                    if entry not in flow["input"]:
                        flow["input"].append(entry)
            elif is_norm and len(flow["normed"]) < _MAX_FLOW_EDGES:
                flow["normed"][src] = type(module).__name__

    def _flow_out(self, flow: Dict[str, Any], module: nn.Module, output: Any) -> None:
        src = flow["src"].pop(id(module), None)
        t = output if isinstance(output, torch.Tensor) else probes.first_tensor(output)
        if t is None:
            return
        if src is not None and isinstance(module, _PASS_THROUGH):
            flow["origin"][id(t)] = (t, src[0], src[1])
        elif src is not None and src[0] == "<input>" and isinstance(module, _NORMS):
            flow["origin"][id(t)] = (t, "<input>", True)
        elif isinstance(module, _WEIGHTED):
            flow["origin"][id(t)] = (t, self.names.get(id(module), type(module).__name__), False)

    def _overfit_args(self, mid: int, args: Any) -> Any:
        first = self.first_root_args.get(mid)
        if first is None:
            self.first_root_args[mid] = args
            return None
        if _same_structure(first, args):
            return first
        return None

    def _report_input(self, module: nn.Module, info: RootInfo, args: Any) -> None:
        tensors: List[Dict[str, Any]] = []
        for name, t in probes.tensors_in(args):
            if len(tensors) >= 8:
                break
            entry = probes.summary(t)
            entry["name"] = name
            tensors.append(entry)
        self.emit(
            {
                "kind": "input",
                "model": info.label,
                "site": sites.site_json(sites.user_site()),
                "tensors": tensors,
                "step": self.total_steps,
            }
        )

    def _leaf_post(self, module: nn.Module, output: Any) -> None:
        cur = self.current_pass
        if cur is None or not cur["grad"]:
            return
        t = output if isinstance(output, torch.Tensor) else probes.first_tensor(output)
        if t is None or not t.is_floating_point() or t.numel() == 0:
            return
        mid = id(module)
        self.producer[id(t)] = (self.names.get(mid, type(module).__name__), type(module).__name__)
        x = t.detach()
        if not self.nonfinite_reported:
            # A NaN or Inf anywhere makes the sum non-finite: one pass, no mask tensor.
            self.deferred.add(("finite", mid, self.total_steps + 1), x.sum(dtype=torch.float32))
        for cls, kind in _ACT_KINDS:
            if isinstance(module, cls):
                self._activation(module, kind, x)
                break
        if cur["first"] and isinstance(module, _WEIGHTED):
            weight = getattr(module, "weight", None)
            if isinstance(weight, torch.Tensor):
                cur["order"] += 1
                self.layer_order.setdefault(id(weight), cur["order"])
                if x.numel() > 1:
                    self.deferred.add(("act_std", mid, cur["order"]), x.float().std())
        if len(self.deferred) > _MAX_PENDING:
            self._resolve()

    def _activation(self, module: nn.Module, kind: str, x: torch.Tensor) -> None:
        if x.dim() < 2:
            return
        info = self.acts.get(id(module))
        if info is None:
            info = ActInfo(kind, self.names.get(id(module), type(module).__name__), self.site_of(module))
            self.acts[id(module)] = info
        info.calls += 1
        if kind == "relu":
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
            eps = float(self.opt("TL905", "epsilon", 0.01))
            if kind == "sigmoid":
                sat = ((x < eps) | (x > 1 - eps)).float().mean()
            else:
                sat = (x.abs() > 1 - eps).float().mean()
            info.saturated_sum = sat if info.saturated_sum is None else info.saturated_sum + sat

    def _root_post(self, module: nn.Module, output: Any) -> None:
        cur = self.current_pass
        self.current_pass = None
        if cur is None or cur["root"] != id(module):
            return
        mid = id(module)
        info = self.roots[mid]
        flow = cur.pop("flow", None)
        if flow is not None:
            self.event("flow", model=info.label, input=flow["input"], normed=flow["normed"])
        if cur["first"]:
            self.first_train_pass.add(mid)
        out = probes.first_tensor(output)
        grad_fn = out.grad_fn if isinstance(out, torch.Tensor) else None
        if not cur["grad"]:
            self._count_pass(info, "eval_no_grad", module.training, False)  # can only be evaluation
            return
        if grad_fn is None:
            return  # gradients on but no graph (frozen model, integer output): nothing to judge
        # The node itself is held (not its id, which a freed graph could hand to a new node)
        # until the next backward tells whether this pass fed a loss. Only a few are kept, so
        # an evaluation loop run with gradients on cannot pile up graphs.
        self.pending_passes.append((mid, grad_fn, module.training, sites.user_site()))
        if len(self.pending_passes) > _MAX_PENDING_PASSES:
            old = self.pending_passes.pop(0)
            self._count_pass(self.roots[old[0]], "eval_grad", old[2], True, old[3])

    def _count_pass(
        self, info: RootInfo, kind: str, training: bool, has_graph: bool, site: Optional[sites.Site] = None
    ) -> None:
        key = f"{kind}:{'train' if training else 'eval'}"
        if kind.startswith("eval"):
            self.eval_seen = True
        info.passes[key] = info.passes.get(key, 0) + 1
        if key not in info.first:
            info.first[key] = sites.site_json(site or sites.user_site())
            self.emit(
                {
                    "kind": "passes",
                    "model": info.label,
                    "has_drop_or_norm": info.has_drop_or_norm,
                    "passes": dict(info.passes),
                    "first": dict(info.first),
                }
            )

    def _classify_pending(self, loss: torch.Tensor) -> None:
        pending, self.pending_passes = self.pending_passes, []
        if not pending:
            return
        if len(pending) == 1:
            train = {0}
        else:
            reached = _graph_nodes(loss.grad_fn) if loss.grad_fn is not None else set()
            train = {i for i, p in enumerate(pending) if id(p[1]) in reached}
        for i, (mid, _, training, site) in enumerate(pending):
            info = self.roots.get(mid)
            if info is None:
                continue
            if i in train:
                self._count_pass(info, "train", training, True, site)
            else:
                self._count_pass(info, "eval_grad", training, True, site)

    # ------------------------------------------------------------------ optimizers
    def opt_info(self, opt: Any) -> OptInfo:
        info = self.opts.get(id(opt))
        if info is None:
            self.opt_count += 1
            info = OptInfo(index=self.opt_count, name=type(opt).__name__, site=self.opt_site.get(opt))
            self.opts[id(opt)] = info
            self.opt_refs[id(opt)] = weakref.ref(opt)
        return info

    def _opt_params(self, opt: Any) -> List[torch.Tensor]:
        return [p for g in opt.param_groups for p in g["params"] if isinstance(p, torch.Tensor)]

    def _report_params(self, opt: Any, info: OptInfo, params: List[torch.Tensor]) -> None:
        info.reported_params = True
        entries = []
        for i, p in enumerate(params[:_MAX_PARAMS_REPORTED]):
            info.param_index[id(p)] = i
            name, mod = self.pnames.get(id(p), (f"param[{i}]", ""))
            owner = self.pmodule.get(id(p))
            entries.append(
                {
                    "i": i,
                    "name": name,
                    "module": mod,
                    "shape": list(p.shape),
                    "requires_grad": bool(p.requires_grad),
                    "weighted": bool(
                        owner is not None and isinstance(owner, _WEIGHTED) and p is getattr(owner, "weight", None)
                    ),
                    "order": self.layer_order.get(id(p)),
                    "site": sites.site_json(self.site_of(owner)),
                }
            )
        held = {id(p) for p in params}
        for other in self.opts.values():
            held.update(other.param_index)
        self.emit(
            {
                "kind": "optimizer",
                "optimizer": info.index,
                "name": info.name,
                "site": sites.site_json(info.site),
                "lr": [_lr(g) for g in opt.param_groups],
                "params": entries,
            }
        )

    def _step_pre(self, opt: Any, args: Any, kwargs: Any) -> None:
        if not self.active:
            return
        if self.stopped:
            self._check_stopped()
            return
        if self.waiting:
            return
        self._guarded("step-pre", self._step_pre_body, opt)

    def _step_pre_body(self, opt: Any) -> None:
        info = self.opt_info(opt)
        self.event("opt_step", optimizer=info.index, site=sites.site_json(sites.user_site()))
        params = self._opt_params(opt)
        if info.steps == 0 and not info.sample:
            self._sample(info, params)
        trainable = [p for p in params if p.requires_grad]
        grads = [p.grad for p in trainable]
        dense = [i for i, g in enumerate(grads) if g is not None and not g.is_sparse]
        norms = torch._foreach_norm([grads[i].detach() for i in dense]) if dense else []  # type: ignore[union-attr]
        snapshot = [p.detach().clone() for p in trainable]
        received = [id(p) in self.got_grad for p in trainable]
        first = info.steps == 0
        init_stats: List[Tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        if first:
            for i, p in enumerate(trainable):
                if p.dim() >= 2 and self.layer_order.get(id(p)) is not None:
                    w = p.detach().reshape(p.shape[0], -1).float()
                    g = grads[i]
                    rows_same = torch.zeros((), device=p.device)
                    if g is not None and g.shape[0] > 1:
                        gr = g.detach().reshape(g.shape[0], -1).float()
                        spread = (gr - gr[:1]).abs().max()
                        rows_same = (spread <= 1e-6 * (gr.abs().max() + 1e-12)).float()
                    init_stats.append((i, w.std(), (w.max() - w.min()).abs(), rows_same))
        info.pre = (trainable, dense, norms, snapshot, received, init_stats, self.backward_since_step)

    def _sample(self, info: OptInfo, params: List[torch.Tensor]) -> None:
        for p in params:
            if len(info.sample) >= _SAMPLE_PARAMS:
                break
            if p.requires_grad and p.grad is not None:
                info.sample.append(p)
                info.sample_ids.add(id(p))
                self._grad_handles.append(p.register_hook(self._stale_hook(info, p)))

    def _stale_hook(self, info: OptInfo, p: torch.Tensor) -> Callable[[torch.Tensor], None]:
        pid = id(p)
        ref = weakref.ref(p)

        def hook(grad: torch.Tensor) -> None:
            if not self.active or info.steps == 0 or info.checked.get(pid) == info.steps:
                return None
            info.checked[pid] = info.steps
            param = ref()
            if param is None:
                return None
            old = param.grad
            if pid in info.cleared or old is None:
                self.deferred.add(("fresh", info.index, pid), grad.new_zeros((), dtype=torch.float32))
            else:
                # .grad still holds something from before the last step: unless it is all zeros
                # (cleared by hand), this backward adds onto the previous step's gradient.
                self.deferred.add(("stale", info.index, pid), old.detach().float().norm())
                self.deferred.add(("incoming", info.index, pid), grad.detach().float().norm())
            return None

        return hook

    def _step_post(self, opt: Any, args: Any, kwargs: Any) -> None:
        if not self.active or self.stopped:
            return
        if self.waiting:
            self.wait_steps += 1
            if self.eval_seen or self.wait_steps >= self.eval_wait or self._wait_expired():
                self.stop("steps")
            return
        self._guarded("step-post", self._step_post_body, opt)
        if self._target_reached():
            if self.eval_wait and not self.eval_seen and not self._wait_expired():
                self._start_wait()
            else:
                self.stop("steps")

    def _wait_expired(self) -> bool:
        limit = self.eval_wait_seconds
        return limit is not None and time.monotonic() - self.installed_at >= limit

    def _start_wait(self) -> None:
        """The requested steps are done but no evaluation pass ran yet: keep going, watching passes only.

        What is measured per step (gradients, updates, losses, call order) stays that of the
        requested steps; the extra steps only count forward passes and their modes.
        """
        self.waiting = True
        self.wait_steps = 0
        self.emit({"kind": "wait", "for": "evaluation", "steps": self.total_steps, "max_steps": self.eval_wait})

    def _step_post_body(self, opt: Any) -> None:
        info = self.opt_info(opt)
        info.steps += 1
        self.total_steps += 1
        pre, info.pre = info.pre, None
        info.cleared = set()
        self.backward_since_step = 0
        self.no_step_snapshot = None
        if pre is None:
            return
        trainable, dense, norms, snapshot, received, init_stats, backwards = pre
        if not info.reported_params:
            # Reported after the first step, not before: with a closure (LBFGS) the model's
            # first forward pass, which names the parameters, runs inside step().
            self._report_params(opt, info, self._opt_params(opt))
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
            self.deferred.add(("init_std", i), std)
            self.deferred.add(("init_range", i), rng)
            self.deferred.add(("rows_same", i), same)
        acts, act_values = self._activation_values()
        if act_values is not None:
            blocks.append(act_values)
        flat, values = self._resolve(blocks)
        index = {id(p): info.param_index.get(id(p), -1) for p in trainable}
        per: Dict[int, Dict[str, Any]] = {}
        for i, p in enumerate(trainable):
            per[i] = {"i": index[id(p)], "grad": None, "received": received[i]}
        if n:
            for i in range(n):
                per[i]["delta"] = probes.number(flat[i])
                per[i]["w"] = probes.number(flat[n + i])
            for j, i in enumerate(dense):
                per[i]["grad"] = probes.number(flat[2 * n + j])
        stale: List[Dict[str, Any]] = []
        fresh = 0
        losses: List[float] = []
        clip_norms: List[float] = []
        for key, val in values:
            tag = key[0]
            if tag in ("init_std", "init_range", "rows_same"):
                per[key[1]][tag] = probes.number(val)
            elif tag == "stale" and key[1] == info.index:
                stale.append({"i": info.param_index.get(key[2], -1), "stale_norm": probes.number(val)})
            elif tag == "incoming" and key[1] == info.index and stale:
                stale[-1]["new_norm"] = probes.number(val)
            elif tag == "fresh" and key[1] == info.index:
                fresh += 1
            elif tag == "loss":
                losses.append(probes.number(val))
            elif tag == "clip_norm":
                clip_norms.append(probes.number(val))
        total = _total_norm([per[i].get("grad") for i in per])
        self.emit(
            {
                "kind": "step",
                "step": self.total_steps,
                "optimizer": info.index,
                "opt_step": info.steps,
                "backwards": backwards,
                "grad_total": probes.number(total) if total is not None else None,
                "lr": [_lr(g) for g in opt.param_groups],
                "params": list(per.values())[:_MAX_PARAMS_REPORTED],
                "stale": [s for s in stale if s["stale_norm"] != 0.0],
                "checked_clear": fresh + sum(1 for s in stale if s["stale_norm"] == 0.0),
                "losses": losses,
                "clip_norms": clip_norms,
            }
        )
        if acts:
            self._emit_activations(acts, flat[len(flat) - len(acts) :])
        if not self.nonfinite_reported:
            self._find_nonfinite_params(info, trainable, per)

    def _find_nonfinite_params(
        self, info: OptInfo, trainable: List[torch.Tensor], per: Dict[int, Dict[str, Any]]
    ) -> None:
        for where in ("grad", "delta"):
            for i, p in enumerate(trainable):
                v = per[i].get(where)
                if isinstance(v, str):
                    name, _ = self.pnames.get(id(p), (f"param[{i}]", ""))
                    owner = self.pmodule.get(id(p))
                    self._nonfinite(
                        "gradient" if where == "grad" else "parameter after step",
                        name,
                        self.site_of(owner) if owner is not None else None,
                        value=v,
                    )
                    return

    def _nonfinite(self, where: str, name: str, site: Optional[sites.Site], **extra: Any) -> None:
        if self.nonfinite_reported:
            return
        self.nonfinite_reported = True
        rec = {
            "kind": "nonfinite",
            "where": where,
            "name": name,
            "site": sites.site_json(site),
            "step": self.total_steps,
        }
        rec.update(extra)
        self.emit(rec)

    def _resolve(self, blocks: Sequence[torch.Tensor] = ()) -> Tuple[List[float], List[Tuple[Any, float]]]:
        """Read back `blocks` and every deferred value in one transfer.

        Returns the numbers of `blocks`, and the deferred (key, value) pairs that callers
        handle themselves (the rest are acted on here).
        """
        keys, stacked = self.deferred.take()
        parts = list(blocks) + ([stacked] if stacked is not None else [])
        flat = probes.read_blocks(parts)
        cut = sum(b.numel() for b in blocks)
        head, tail = flat[:cut], flat[cut:]
        values = list(zip(keys, tail))
        rest: List[Tuple[Any, float]] = []
        for key, val in values:
            tag = key[0]
            if tag == "finite":
                if not math.isfinite(val) and not self.nonfinite_reported:
                    mod = self._module_by_id(key[1])
                    self._nonfinite(
                        "module output",
                        self.names.get(key[1], "?"),
                        self.site_of(mod) if mod is not None else None,
                        step=key[2],
                    )
            elif tag == "act_std":
                self.emit(
                    {
                        "kind": "act_std",
                        "module": self.names.get(key[1], "?"),
                        "order": key[2],
                        "std": probes.number(val),
                    }
                )
            elif tag == "loss_value":
                if not self.nonfinite_reported and isinstance(probes.number(val), str):
                    self._nonfinite("loss", key[1], (key[2], key[3]), value=probes.number(val), step=key[4])
                rest.append((("loss",), val))
            else:
                rest.append((key, val))
        return head, rest

    def _module_by_id(self, mid: int) -> Optional[nn.Module]:
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

    def _activation_values(self) -> Tuple[List[ActInfo], Optional[torch.Tensor]]:
        """Each activation layer's dead or saturated fraction, stacked, not yet read back."""
        layers = []
        pending: List[torch.Tensor] = []
        inactivity = float(self.opt("TL904", "inactivity", 0.01))
        for info in self.acts.values():
            if info.kind == "relu" and info.active_counts is not None:
                pending.append((info.active_counts < inactivity * max(info.samples, 1)).float().mean())
            elif info.saturated_sum is not None:
                pending.append(info.saturated_sum / max(info.calls, 1))
            else:
                continue
            layers.append(info)
        if not pending:
            return [], None
        if any(p.device != pending[0].device for p in pending):
            pending = [p.cpu() for p in pending]
        return layers, torch.stack(pending)

    def _emit_activations(self, layers: Optional[List[ActInfo]] = None, values: Optional[List[float]] = None) -> None:
        if layers is None or values is None:
            layers, stacked = self._activation_values()
            values = probes.read_blocks([stacked]) if stacked is not None else []
        if not layers:
            return
        out = []
        for info, v in zip(layers, values):
            entry: Dict[str, Any] = {
                "name": info.name,
                "kind": info.kind,
                "site": sites.site_json(info.site),
                "calls": info.calls,
            }
            if info.kind == "relu":
                entry.update(
                    dead_fraction=probes.number(v),
                    samples=info.samples,
                    units=int(info.active_counts.numel()) if info.active_counts is not None else 0,
                )
            else:
                entry.update(saturated_fraction=probes.number(v))
            out.append(entry)
        self.emit({"kind": "activations", "step": self.total_steps, "layers": out})

    def _target_reached(self) -> bool:
        counts = [i.steps for i in self.opts.values() if i.steps > 0]
        if not counts:
            return False
        return min(counts) >= self.steps or sum(counts) >= 4 * self.steps

    # ------------------------------------------------------------------ backward
    def before_backward(self, loss: torch.Tensor) -> None:
        if self.stopped:
            self._check_stopped()
            return
        if self.waiting:
            # Only which forward passes fed this loss matters now (training vs evaluation).
            if loss.grad_fn is not None:
                self._guarded("backward", self._classify_pending, loss)
            return
        self.backward_count += 1
        self.backward_since_step += 1
        self._guarded("backward", self._before_backward_body, loss)
        manual = not self.opts and not self.opt_site_count()
        if manual and self.backward_count > self.steps:
            self.stop("steps")
        if not manual and self.total_steps == 0:
            limit = max(self.steps + 1, int(self.opt("TL103", "max_backward_without_step", 32)))
            if self.backward_count > limit:
                self._guarded("no-step", self._report_no_step)
                self.stop("no-optimizer-step")

    def opt_site_count(self) -> int:
        return len(self.opt_site)

    def _before_backward_body(self, loss: torch.Tensor) -> None:
        site = sites.user_site()
        scaled = self.scaled.get(id(loss))
        self.event(
            "backward",
            site=sites.site_json(site),
            grad_fn=loss.grad_fn is not None,
            requires_grad=bool(loss.requires_grad),
            is_leaf=bool(loss.is_leaf),
            grad_enabled=torch.is_grad_enabled(),
            inference=torch.is_inference_mode_enabled(),
            scaled=scaled is not None,
        )
        value = scaled if isinstance(scaled, torch.Tensor) else loss
        if value.numel() >= 1 and value.is_floating_point():
            self.deferred.add(
                ("loss_value", "backward", site[0] if site else "", site[1] if site else 0, self.total_steps + 1),
                value.detach().float().mean(),
            )
        if loss.grad_fn is not None:
            self._classify_pending(loss)
        if not self.opts and not self.opt_site_count():
            self._manual_update(loss, site)
        elif self.total_steps == 0 and self.no_step_snapshot is None:
            params = [p for ref in self.opt_refs.values() if ref() is not None for p in self._opt_params(ref())]
            params = params or _graph_leaves(loss)
            self.no_step_snapshot = (params, [p.detach().clone() for p in params])

    def _report_no_step(self) -> None:
        snap = self.no_step_snapshot
        if snap is None or self.no_step_reported:
            return
        self.no_step_reported = True
        params, before = snap
        deltas = probes.read([(p.detach() - b).norm() for p, b in zip(params, before)]) if params else []
        self.emit(
            {
                "kind": "no_step",
                "backwards": self.backward_count,
                "params": len(params),
                "changed": sum(1 for d in deltas if d != 0.0),
                "max_delta": probes.number(max(deltas)) if deltas else 0.0,
            }
        )

    def _manual_update(self, loss: torch.Tensor, site: Optional[sites.Site]) -> None:
        """No optimizer: find the trained leaves from the graph and watch them between passes."""
        leaves = _graph_leaves(loss)
        if not leaves:
            self.emit({"kind": "manual", "backward": self.backward_count, "leaves": 0, "site": sites.site_json(site)})
            return
        prev = self.manual_prev
        record: Dict[str, Any] = {
            "kind": "manual",
            "backward": self.backward_count,
            "leaves": len(leaves),
            "site": sites.site_json(site),
        }
        vals: List[torch.Tensor] = []
        if prev is not None:
            p_leaves, p_values, p_grads = prev
            same = [i for i, leaf in enumerate(p_leaves) if any(leaf is x for x in leaves)]
            record["same_leaves"] = len(same) == len(p_leaves) and len(leaves) == len(p_leaves)
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
            record["delta_norm"] = probes.number(out[0])
            record["delta_dot_grad"] = probes.number(out[1])
        record["stale_grad_norm"] = probes.number(out[-1])
        record["stale_grads"] = len(stale)
        self.emit(record)
        total = sum(leaf.numel() for leaf in leaves)
        if total <= 50_000_000:
            self.manual_prev = (leaves, [leaf.detach().clone() for leaf in leaves], [])
        else:
            self.manual_prev = None

    def after_backward(self, loss: torch.Tensor) -> None:
        prev = self.manual_prev
        if prev is not None and not self.opts:
            leaves, values, _ = prev
            self.manual_prev = (
                leaves,
                values,
                [leaf.grad.detach().clone() if leaf.grad is not None else None for leaf in leaves],
            )

    # ------------------------------------------------------------------ stop / finish
    def stop(self, reason: str) -> None:
        if self.stopped:
            return
        self._guarded("finish", self.finish)
        self.stopped = True
        rec: Dict[str, Any] = {
            "kind": "stop",
            "reason": reason,
            "steps": self.total_steps,
            "backwards": self.backward_count,
        }
        if self.waiting:
            rec.update(waited_steps=self.wait_steps, eval_seen=self.eval_seen)
        self.emit(rec)
        if self.mode == "api_passive":
            self.active = False
            return
        raise TraceStop(f"trainlint: stopping after {self.total_steps} optimizer step(s)")

    def finish(self) -> None:
        """Read back what is still pending and run the end-of-run checks (once)."""
        if self.finished:
            return
        self.finished = True
        was = self.active
        self.active = False
        try:
            for mid, _, training, site in self.pending_passes:
                if mid in self.roots:  # a forward with a graph that no backward ever used
                    self._count_pass(self.roots[mid], "eval_grad", training, True, site)
            self.pending_passes = []
            if self.total_steps == 0 and self.backward_count >= 2:
                # The run ended (on its own, or by an error) after backward passes but before any
                # optimizer step: whether the parameters moved is the evidence for TL103.
                self._report_no_step()
            self._resolve()
            if not self.waiting:  # else already sent when the wait began, and unchanged since
                self._emit_activations()
            for info in self.roots.values():
                if info.passes:
                    self.emit(
                        {
                            "kind": "passes",
                            "model": info.label,
                            "has_drop_or_norm": info.has_drop_or_norm,
                            "passes": dict(info.passes),
                            "first": dict(info.first),
                        }
                    )
            self._check_functions()
        finally:
            self.active = was

    def _check_functions(self) -> None:
        if self.functions_checked:
            return
        self.functions_checked = True
        from trainlint.runtime.gradcheck import check_function

        for cls, (args, kwargs, site) in list(self.functions.items()):
            result = check_function(cls, args, kwargs, self.options.get("TL913", {}))
            result.update(kind="function", name=cls.__qualname__, site=sites.site_json(site))
            self.emit(result)


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


def _graph_nodes(root: Any, limit: int = 100_000) -> Set[int]:
    seen: Set[int] = set()
    stack = [root]
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for nxt, _ in getattr(node, "next_functions", ()):
            if nxt is not None:
                stack.append(nxt)
    return seen


def _graph_leaves(loss: torch.Tensor, limit: int = 100_000) -> List[torch.Tensor]:
    """The leaf tensors that a backward from `loss` would write `.grad` into."""
    if loss.grad_fn is None:
        return [loss] if loss.requires_grad else []
    leaves: List[torch.Tensor] = []
    seen: Set[int] = set()
    stack = [loss.grad_fn]
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if isinstance(var, torch.Tensor):
            leaves.append(var)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return leaves


def _same_structure(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and a.device == b.device
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_structure(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_structure(a[k], b[k]) for k in a)
    return type(a) is type(b)
