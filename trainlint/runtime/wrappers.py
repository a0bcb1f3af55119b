"""Thin wrappers around the torch functions whose calls and call order are evidence.

Each wrapper records an event (with the user's line) and calls the original unchanged. A
wrapper never lets a tracer defect escape into the script: failures are reported as internal
records and the original call still runs.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from trainlint.runtime import probes, sites
from trainlint.runtime.patching import Patcher

if TYPE_CHECKING:
    from trainlint.runtime.hooks import Tracer

CLASS_LOSSES = ("cross_entropy", "nll_loss")
BINARY_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits")
REGRESSION_LOSSES = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")
LOSSES = CLASS_LOSSES + BINARY_LOSSES + REGRESSION_LOSSES
DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")


def _flag(tracer: "Tracer", name: str) -> bool:
    return bool(getattr(tracer.in_wrapper, name, False))


def _set(tracer: "Tracer", name: str, value: bool) -> None:
    setattr(tracer.in_wrapper, name, value)


def install_all(tracer: "Tracer", patcher: Patcher) -> None:
    _constructors(tracer, patcher)
    _zero_grad(tracer, patcher)
    _backward(tracer, patcher)
    _schedulers(tracer, patcher)
    _clipping(tracer, patcher)
    _scaler(tracer, patcher)
    _losses(tracer, patcher)
    _dropout(tracer, patcher)
    _functions(tracer, patcher)
    _data_loaders(tracer, patcher)
    if tracer.overfit:
        _loader(tracer, patcher)


# ---------------------------------------------------------------------- construction sites
def _constructors(tracer: "Tracer", patcher: Patcher) -> None:
    def module_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: nn.Module, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if tracer.active:
                try:
                    tracer.module_site[self] = sites.user_site(skip_self_of=self)
                except Exception:
                    pass

        return init

    def optimizer_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if tracer.active:
                try:
                    tracer.opt_site[self] = sites.user_site(skip_self_of=self)
                    tracer.opt_info(self)
                except Exception:
                    pass

        return init

    patcher.replace(nn.Module, "__init__", module_init)
    patcher.replace(torch.optim.Optimizer, "__init__", optimizer_init)


# ---------------------------------------------------------------------- zero_grad
def _zero_grad(tracer: "Tracer", patcher: Patcher) -> None:
    def opt_zero(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def zero_grad(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = original(self, *args, **kwargs)
            if tracer.recording:
                info = tracer.opt_info(self)
                info.cleared.update(info.sample_ids)
                tracer.event(
                    "zero_grad", target="optimizer", optimizer=info.index, site=sites.site_json(sites.user_site())
                )
            return out

        return zero_grad

    def module_zero(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def zero_grad(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
            out = original(self, *args, **kwargs)
            if tracer.recording:
                ids = {id(p) for p in self.parameters()}
                for info in tracer.opts.values():
                    info.cleared.update(info.sample_ids & ids)
                tracer.event("zero_grad", target="module", site=sites.site_json(sites.user_site()))
            return out

        return zero_grad

    patcher.replace(torch.optim.Optimizer, "zero_grad", opt_zero)
    patcher.replace(nn.Module, "zero_grad", module_zero)


# ---------------------------------------------------------------------- backward
def _backward(tracer: "Tracer", patcher: Patcher) -> None:
    def run(original: Callable[..., Any], loss: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        if not tracer.active or _flag(tracer, "backward") or not isinstance(loss, torch.Tensor):
            return original(*args, **kwargs)
        tracer.before_backward(loss)
        _set(tracer, "backward", True)
        try:
            return original(*args, **kwargs)
        finally:
            _set(tracer, "backward", False)
            if tracer.active:
                tracer._guarded("after-backward", tracer.after_backward, loss)

    def tensor_backward(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def backward(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            return run(original, self, (self,) + args, kwargs)

        return backward

    def autograd_backward(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
            first = tensors if isinstance(tensors, torch.Tensor) else probes.first_tensor(tensors)
            return run(original, first, (tensors,) + args, kwargs)

        return backward

    def autograd_grad(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def grad(*args: Any, **kwargs: Any) -> Any:
            if tracer.recording and not _flag(tracer, "backward"):
                tracer.event("autograd_grad", site=sites.site_json(sites.user_site()))
            return original(*args, **kwargs)

        return grad

    patcher.replace(torch.Tensor, "backward", tensor_backward)
    patcher.replace(torch.autograd, "backward", autograd_backward)
    patcher.replace(torch.autograd, "grad", autograd_grad)


# ---------------------------------------------------------------------- schedulers
def _scheduler_classes() -> list[type]:
    base = torch.optim.lr_scheduler.LRScheduler
    out, todo = [base], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in out:
                out.append(sub)
                todo.append(sub)
    return [c for c in out if "step" in c.__dict__]


def _schedulers(tracer: "Tracer", patcher: Patcher) -> None:
    base = torch.optim.lr_scheduler.LRScheduler

    def sched_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            tracer.sched_constructing += 1
            try:
                original(self, *args, **kwargs)
            finally:
                tracer.sched_constructing -= 1
            opt = getattr(self, "optimizer", None)
            if tracer.active and opt is not None:
                tracer.sched_last[id(self)] = tracer.opt_info(opt).steps

        return init

    def sched_step(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def step(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not tracer.recording or tracer.sched_constructing or _flag(tracer, "sched"):
                return original(self, *args, **kwargs)
            _set(tracer, "sched", True)
            try:
                opt = getattr(self, "optimizer", None)
                if opt is not None:
                    info = tracer.opt_info(opt)
                    last = tracer.sched_last.get(id(self), 0)
                    tracer.sched_last[id(self)] = info.steps
                    tracer.event(
                        "sched_step",
                        scheduler=type(self).__name__,
                        optimizer=info.index,
                        opt_steps=info.steps,
                        since=info.steps - last,
                        site=sites.site_json(sites.user_site()),
                    )
                return original(self, *args, **kwargs)
            finally:
                _set(tracer, "sched", False)

        return step

    patcher.replace(base, "__init__", sched_init)
    for cls in _scheduler_classes():
        patcher.replace(cls, "step", sched_step)


# ---------------------------------------------------------------------- clipping
def _clipping(tracer: "Tracer", patcher: Patcher) -> None:
    import torch.nn.utils as utils
    import torch.nn.utils.clip_grad as clip_mod

    def clip(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def wrapper(parameters: Any, *args: Any, **kwargs: Any) -> Any:
                if not tracer.recording or _flag(tracer, "clip"):
                    return original(parameters, *args, **kwargs)
                _set(tracer, "clip", True)
                try:
                    out = original(parameters, *args, **kwargs)
                finally:
                    _set(tracer, "clip", False)
                limit = args[0] if args else kwargs.get("max_norm", kwargs.get("clip_value"))
                try:
                    tracer.event(
                        "clip",
                        fn=kind,
                        limit=float(limit) if limit is not None else None,
                        site=sites.site_json(sites.user_site()),
                    )
                    if isinstance(out, torch.Tensor):
                        tracer.deferred.add(("clip_norm",), out.detach().float())
                except Exception as exc:
                    tracer.internal("clip", exc)
                return out

            return wrapper

        return make

    for owner in (utils, clip_mod):
        patcher.replace(owner, "clip_grad_norm_", clip("clip_grad_norm_"))
        patcher.replace(owner, "clip_grad_value_", clip("clip_grad_value_"))


# ---------------------------------------------------------------------- GradScaler
def _scaler(tracer: "Tracer", patcher: Patcher) -> None:
    scaler_cls = getattr(getattr(torch, "amp", None), "GradScaler", None)
    if scaler_cls is None:
        return

    def method(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                # `step` may be where the tracer stops the script (inside optimizer.step), so it is
                # recorded before the call; `scale` and `update` after, to see their results.
                if name in ("step", "unscale_"):
                    note(self, args, None)
                    return original(self, *args, **kwargs)
                out = original(self, *args, **kwargs)
                note(self, args, out)
                return out

            def note(self: Any, args: Any, out: Any) -> None:
                if not tracer.recording:
                    return
                try:
                    data: Dict[str, Any] = {
                        "method": name,
                        "site": sites.site_json(sites.user_site()),
                        "enabled": bool(self.is_enabled()),
                    }
                    if name == "scale" and isinstance(out, torch.Tensor) and args and isinstance(args[0], torch.Tensor):
                        tracer.scaled[id(out)] = args[0]
                        if len(tracer.scaled) > 64:
                            tracer.scaled.pop(next(iter(tracer.scaled)))
                    if name in ("unscale_", "step") and args:
                        data["optimizer"] = tracer.opt_info(args[0]).index
                    if name == "update" and self.is_enabled():
                        data["scale"] = probes.number(float(self.get_scale()))
                    tracer.event("scaler", **data)
                except Exception as exc:
                    tracer.internal("scaler", exc)

            return wrapper

        return make

    for name in ("scale", "unscale_", "step", "update"):
        patcher.replace(scaler_cls, name, method(name))


# ---------------------------------------------------------------------- losses
def _loss_args(name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Any, Any]:
    inp = args[0] if args else kwargs.get("input")
    target = args[1] if len(args) > 1 else kwargs.get("target")
    return inp, target


def _losses(tracer: "Tracer", patcher: Patcher) -> None:
    def make(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def loss(*args: Any, **kwargs: Any) -> Any:
                if not tracer.recording or _flag(tracer, "loss"):
                    return original(*args, **kwargs)
                _set(tracer, "loss", True)
                try:
                    key = None
                    try:
                        key, args, kwargs = _before_loss(tracer, name, args, kwargs)
                    except Exception as exc:
                        tracer.internal(f"loss:{name}", exc)
                    out = original(*args, **kwargs)
                    if key is not None:
                        tracer._guarded("loss-value", _after_loss, tracer, name, key, out)
                    return out
                finally:
                    _set(tracer, "loss", False)

            return loss

        return wrap

    for name in LOSSES:
        patcher.replace(F, name, make(name))


def _before_loss(
    tracer: "Tracer", name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> Tuple[Any, Tuple[Any, ...], Dict[str, Any]]:
    inp, target = _loss_args(name, args, kwargs)
    if not isinstance(inp, torch.Tensor):
        return None, args, kwargs
    site = sites.user_site()
    path, line = site if site else ("", 0)
    key = (name, path, line)
    n = tracer.loss_calls.get(key, 0) + 1
    tracer.loss_calls[key] = n
    if tracer.overfit and not tracer.loader_used and isinstance(target, torch.Tensor):
        first = tracer.first_targets.get(key)
        if first is None:
            tracer.first_targets[key] = target
        elif first.shape == target.shape and first.dtype == target.dtype:
            target = first
            if len(args) > 1:
                args = (args[0], first) + tuple(args[2:])
            else:
                kwargs = dict(kwargs, target=first)
    ignore = kwargs.get("ignore_index", -100)
    full = n <= _full_calls()
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
    tgt = stats.get("target", {})
    out_of_range = False
    if class_target and "num_classes" in stats and tgt:
        lo, hi = tgt.get("min_valid"), tgt.get("max")
        out_of_range = (isinstance(lo, (int, float)) and lo < 0) or (
            isinstance(hi, (int, float)) and hi >= stats["num_classes"]
        )
    if not full and not out_of_range:
        return None, args, kwargs
    producer = tracer.producer.get(id(inp))
    record: Dict[str, Any] = {
        "kind": "loss",
        "fn": name,
        "site": sites.site_json(site),
        "call": n,
        "step": tracer.total_steps + 1,
        "reduction": kwargs.get("reduction", "mean"),
        "ignore_index": ignore if isinstance(ignore, int) else None,
        "label_smoothing": kwargs.get("label_smoothing", 0.0),
        "grad_enabled": torch.is_grad_enabled(),
        "input_has_grad": bool(inp.requires_grad),
        "produced_by": {"module": producer[0], "type": producer[1]} if producer else None,
    }
    record.update(stats)
    if out_of_range:
        record["target_out_of_range"] = True
    tracer.emit(record)
    return (key if full else None), args, kwargs


def _full_calls() -> int:
    from trainlint.runtime.hooks import FULL_LOSS_CALLS

    return FULL_LOSS_CALLS


def _after_loss(tracer: "Tracer", name: str, key: Tuple[str, str, int], out: Any) -> None:
    if isinstance(out, torch.Tensor) and out.numel() >= 1 and out.is_floating_point():
        value = probes.read([out.detach().float().mean()])[0]
        tracer.emit(
            {
                "kind": "loss_value",
                "fn": name,
                "site": {"path": key[1], "line": key[2]},
                "call": tracer.loss_calls.get(key, 0),
                "value": probes.number(value),
                "step": tracer.total_steps + 1,
            }
        )


# ---------------------------------------------------------------------- dropout
def _dropout(tracer: "Tracer", patcher: Patcher) -> None:
    reported: Dict[Tuple[int, str], bool] = {}

    def make(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def dropout(*args: Any, **kwargs: Any) -> Any:
                if tracer.active and not tracer.stopped and tracer.mstack:
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
    tracer: "Tracer", reported: Dict[Tuple[int, str], bool], name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> None:
    owner = tracer.mstack[-1]
    if isinstance(owner, nn.modules.dropout._DropoutNd):
        return  # nn.Dropout passes its own training flag
    p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
    training = args[2] if len(args) > 2 else kwargs.get("training", True)
    if not p:
        return
    state = (
        "active_in_eval" if (training and not owner.training) else ("off_in_eval" if not owner.training else "train")
    )
    if state == "train" or reported.get((id(owner), state)):
        return
    reported[(id(owner), state)] = True
    tracer.event(
        "functional_dropout",
        state=state,
        fn=name,
        module=tracer.names.get(id(owner), type(owner).__name__),
        site=sites.site_json(sites.user_site()),
    )


# ---------------------------------------------------------------------- autograd.Function
def _functions(tracer: "Tracer", patcher: Patcher) -> None:
    func_cls = torch.autograd.Function

    def make(original: Any) -> Any:
        inner = original.__func__

        def apply(cls: type, *args: Any, **kwargs: Any) -> Any:
            if tracer.recording and cls not in tracer.functions and torch.is_grad_enabled():
                try:
                    _capture_function(tracer, cls, args, kwargs)
                except Exception as exc:
                    tracer.internal("function", exc)
            return inner(cls, *args, **kwargs)

        return classmethod(apply)

    patcher.replace(func_cls, "apply", make)


def _capture_function(tracer: "Tracer", cls: type, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    # The hand-written backward is what TL913 checks, so that is where the finding points.
    code = getattr(getattr(cls, "backward", None), "__code__", None)
    if code is None:
        return
    code_file, line = code.co_filename, code.co_firstlineno
    if sites.is_library_path(code_file):
        return
    if not any(isinstance(a, torch.Tensor) and a.requires_grad for a in args):
        return
    from trainlint.runtime.gradcheck import shrink

    tracer.functions[cls] = (
        shrink(args, int(tracer.opt("TL913", "max_rows", 4))),
        dict(kwargs),
        (sites.absolute(code_file), line),
    )


# ---------------------------------------------------------------------- DataLoader order
RANDOM_SAMPLERS = ("RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler")


def sampler_order(loader: Any) -> Tuple[str, str]:
    """(sampler class name, "random" | "sequential" | "unknown") of a DataLoader."""
    sampler = getattr(loader, "sampler", None)
    name = type(sampler).__name__
    if name in RANDOM_SAMPLERS:
        return name, "random"
    if name == "SequentialSampler":
        return name, "sequential"
    if name == "DistributedSampler":
        return name, "random" if getattr(sampler, "shuffle", False) else "sequential"
    return name, "unknown"  # custom samplers, iterable datasets: no claim either way


def _data_loaders(tracer: "Tracer", patcher: Patcher) -> None:
    """Where each DataLoader was built, and in what order the first iteration of each draws samples."""
    import weakref

    from torch.utils.data import DataLoader

    built: "weakref.WeakKeyDictionary[Any, Optional[Dict[str, Any]]]" = weakref.WeakKeyDictionary()
    seen: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def make_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if tracer.active:
                try:
                    built[self] = sites.site_json(sites.user_site(skip_self_of=self))
                except Exception:
                    pass

        return init

    def make_iter(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def iterate(self: Any) -> Any:
            if tracer.recording:
                try:
                    if self not in seen:
                        seen.add(self)
                        sampler, order = sampler_order(self)
                        tracer.event(
                            "loader",
                            sampler=sampler,
                            order=order,
                            site=built.get(self),
                            iter_site=sites.site_json(sites.user_site()),
                        )
                except Exception as exc:
                    tracer.internal("loader", exc)
            return original(self)

        return iterate

    patcher.replace(DataLoader, "__init__", make_init)
    patcher.replace(DataLoader, "__iter__", make_iter)


# ---------------------------------------------------------------------- overfit: one batch
def _loader(tracer: "Tracer", patcher: Patcher) -> None:
    from torch.utils.data import DataLoader

    first_batches: Dict[int, Any] = {}

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def iterate(self: Any) -> Any:
            if not tracer.active:
                return original(self)
            tracer.loader_used = True
            key = id(self)
            if key not in first_batches:
                it = original(self)
                try:
                    first_batches[key] = next(iter(it))
                finally:
                    del it
            batch = first_batches[key]
            try:
                count: Optional[int] = len(self)
            except TypeError:
                count = None
            return _repeat(batch, count)

        return iterate

    patcher.replace(DataLoader, "__iter__", make)


def _repeat(batch: Any, count: Optional[int]) -> Any:
    i = 0
    while count is None or i < count:
        i += 1
        yield batch
