"""Statistics taken from tensors as they flow: cheap reductions, no copies.

Most numbers are kept as 0-d tensors on the tensor's own device and read back together once per
step (`Deferred.resolve`), so tracing adds one synchronisation per step rather than one per hook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from trainlint.runtime.records import CLASS_LOSSES, RowStats, TargetStats, TensorStats

_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def number(value: float) -> Any:
    """A JSON-safe float: NaN and infinities become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def read(values: Sequence[torch.Tensor]) -> List[float]:
    """Read 0-d tensors back to Python with one transfer per device."""
    if not values:
        return []
    device = values[0].device
    if all(v.device == device for v in values):
        flat = [v if v.dtype == torch.float32 else v.float() for v in values]
        return [float(x) for x in torch.stack(flat).reshape(-1).tolist()]
    by_device: Dict[torch.device, List[int]] = {}
    for i, v in enumerate(values):
        by_device.setdefault(v.device, []).append(i)
    out: List[float] = [0.0] * len(values)
    for idx in by_device.values():
        stacked = torch.stack([values[i].detach().reshape(()).float() for i in idx])
        for i, x in zip(idx, stacked.tolist()):
            out[i] = float(x)
    return out


def read_blocks(blocks: Sequence[torch.Tensor]) -> List[float]:
    """Concatenate 1-d tensors (same device) and read them back in one transfer."""
    blocks = [b for b in blocks if b.numel()]
    if not blocks:
        return []
    flat = [b.reshape(-1) if b.dtype == torch.float32 else b.reshape(-1).float() for b in blocks]
    if any(b.device != flat[0].device for b in flat):
        flat = [b.cpu() for b in flat]  # a model split over devices: one transfer per block
    return [float(x) for x in torch.cat(flat).tolist()]


class Measure:
    """What a deferred value measures: the first item of its key (the rest says of what)."""

    FINITE = "finite"  # (tag, module id, step): sum of a layer's output, NaN/Inf if any is
    ACT_STD = "act_std"  # (tag, module id, forward order)
    ACT_MEAN = "act_mean"  # (tag, module id, forward order): added just before its ACT_STD
    LOSS_VALUE = "loss_value"  # (tag, "backward", path, line, step): the loss given to backward
    LOSS = "loss"  # (tag,): a loss value, as handed to the step record
    CLIP_NORM = "clip_norm"  # (tag,)
    FRESH = "fresh"  # (tag, optimizer index, param id): .grad was cleared before backward
    STALE = "stale"  # (tag, optimizer index, param id): norm of the gradient left over
    INCOMING = "incoming"  # (tag, optimizer index, param id): norm of the new gradient
    INIT_STD = "init_std"  # (tag, param position): first step, weight matrices
    INIT_RANGE = "init_range"
    ROWS_SAME = "rows_same"


class Deferred:
    """0-d tensors waiting to be read, each with a key saying what it measures."""

    def __init__(self) -> None:
        self.keys: List[Any] = []
        self.values: List[torch.Tensor] = []

    def add(self, key: Any, value: torch.Tensor) -> None:
        self.keys.append(key)
        self.values.append(value)

    def __len__(self) -> int:
        return len(self.values)

    def take(self) -> Tuple[List[Any], Optional[torch.Tensor]]:
        """The pending keys and their values stacked in one tensor (not read back yet)."""
        keys, values = self.keys, self.values
        self.keys, self.values = [], []
        if not values:
            return keys, None
        if any(v.device != values[0].device for v in values):
            values = [v.detach().cpu() for v in values]
        return keys, torch.stack([v.reshape(()) if v.dtype == torch.float32 else v.reshape(()).float() for v in values])

    def resolve(self) -> List[Tuple[Any, float]]:
        keys, values = self.keys, self.values
        self.keys, self.values = [], []
        return list(zip(keys, read(values)))


def tensors_in(obj: Any, prefix: str = "", depth: int = 0) -> Iterator[Tuple[str, torch.Tensor]]:
    """Tensors inside a module's inputs or outputs (tuples, lists, dicts, two levels deep)."""
    if isinstance(obj, torch.Tensor):
        yield prefix or "0", obj
    elif depth < 2 and isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj[:16]):
            yield from tensors_in(item, f"{prefix}[{i}]" if prefix else str(i), depth + 1)
    elif depth < 2 and isinstance(obj, dict):
        for k, item in list(obj.items())[:16]:
            yield from tensors_in(item, f"{prefix}[{k!r}]" if prefix else str(k), depth + 1)


def first_tensor(obj: Any) -> Optional[torch.Tensor]:
    for _, t in tensors_in(obj):
        return t
    return None


def describe(t: torch.Tensor) -> TensorStats:
    return TensorStats(shape=list(t.shape), dtype=str(t.dtype).replace("torch.", ""))


def target_shape(t: torch.Tensor) -> TargetStats:
    return TargetStats(shape=list(t.shape), dtype=str(t.dtype).replace("torch.", ""))


def summary(t: torch.Tensor) -> TensorStats:
    """min/max/mean/std/finite of a float tensor (one sync); shape and dtype otherwise."""
    out = describe(t)
    x = t.detach()
    if x.numel() == 0:
        return out
    if x.is_floating_point():
        x = x.float()
        finite = torch.isfinite(x)
        all_finite = finite.all()
        # Statistics of the finite part, so one NaN does not hide the scale of the rest.
        safe = torch.where(finite, x, torch.zeros((), dtype=x.dtype, device=x.device))
        vals = [
            all_finite.float(),
            safe.min(),
            safe.max(),
            safe.mean(),
            safe.std() if x.numel() > 1 else x.new_zeros(()),
        ]
        fin, mn, mx, mean, std = read(vals)
        out.finite, out.min, out.max, out.mean, out.std = bool(fin), number(mn), number(mx), number(mean), number(std)
    elif x.dtype in _INT_DTYPES or x.dtype == torch.bool:
        mn, mx = read([x.min().float(), x.max().float()])
        out.finite, out.min, out.max = True, mn, mx
    return out


def class_targets_ok(target: torch.Tensor) -> bool:
    return target.dtype in _INT_DTYPES


@dataclass
class LossStats:
    """What a loss function was fed, as the loss record carries it."""

    input: TensorStats
    num_classes: Optional[int] = None
    target: Optional[TargetStats] = None
    rows: Optional[RowStats] = None


def loss_stats(
    fn: str, inp: torch.Tensor, target: Optional[torch.Tensor], full: bool, ignore_index: int = -100
) -> LossStats:
    """What a loss function was fed: the evidence for the TL2xx verdicts and TL910/TL911.

    `full` adds the costlier numbers (distinct target values, ordering) used on first calls.
    """
    out = LossStats(describe(inp))
    keys: List[str] = []
    vals: List[torch.Tensor] = []
    x = inp.detach()
    if full and x.is_floating_point() and x.numel():
        xf = x if x.dtype in (torch.float32, torch.float64) else x.float()
        keys += ["in_finite", "in_min", "in_max", "in_mean"]
        vals += [torch.isfinite(xf).all().float(), xf.min(), xf.max(), xf.mean()]
        if fn in CLASS_LOSSES and xf.dim() >= 1:
            dim = 1 if xf.dim() >= 2 else 0
            rows = xf.sum(dim=dim)
            lse = torch.logsumexp(xf, dim=dim)
            keys += ["row_sum_min", "row_sum_max", "lse_min", "lse_max"]
            vals += [rows.min(), rows.max(), lse.min(), lse.max()]
    if fn in CLASS_LOSSES and x.dim() >= 1:
        out.num_classes = int(x.shape[1 if x.dim() >= 2 else 0])
    t = target.detach() if isinstance(target, torch.Tensor) else None
    if t is not None and t.numel():
        out.target = target_shape(t)
        lo, hi = torch.aminmax(t)
        keys += ["t_min", "t_max"]
        vals += [lo, hi]
        if full and class_targets_ok(t) and ignore_index is not None:
            valid = t != ignore_index
            big = torch.iinfo(torch.int64).max
            keys += ["t_min_valid"]
            vals += [torch.where(valid, t.long(), torch.full_like(t, big, dtype=torch.long)).min().float()]
        if full and t.is_floating_point():
            keys += ["t_integer"]
            vals += [(t == t.round()).all().float()]
        if full and t.dim() >= 1 and t.numel() > 1:
            flat = t.reshape(-1)
            keys += ["t_sorted", "t_distinct"]
            vals += [
                (flat[1:] >= flat[:-1]).all().float(),
                torch.unique(flat).numel() * flat.new_ones((), dtype=torch.float32),
            ]
    stats = dict(zip(keys, read(vals)))
    if "in_min" in stats:
        inp_stats = out.input
        inp_stats.finite = bool(stats["in_finite"])
        inp_stats.min, inp_stats.max = number(stats["in_min"]), number(stats["in_max"])
        inp_stats.mean = number(stats["in_mean"])
    if "row_sum_min" in stats:
        out.rows = RowStats(*(number(stats[k]) for k in ("row_sum_min", "row_sum_max", "lse_min", "lse_max")))
    if "t_min" in stats and out.target is not None:
        tgt = out.target
        tgt.min, tgt.max = number(stats["t_min"]), number(stats["t_max"])
        tgt.integer = (
            bool(class_targets_ok(t))
            if t is not None and not t.is_floating_point()
            else bool(stats.get("t_integer", 0.0))
        )
        if "t_min_valid" in stats:
            tgt.min_valid = number(stats["t_min_valid"])
        elif class_targets_ok(t) if t is not None else False:
            # Later calls read only min/max; a negative minimum equal to ignore_index is fine.
            lo_v = stats["t_min"]
            tgt.min_valid = number(lo_v) if lo_v != ignore_index else None
        if "t_sorted" in stats:
            tgt.sorted = bool(stats["t_sorted"])
            tgt.distinct = int(stats["t_distinct"])
    return out
