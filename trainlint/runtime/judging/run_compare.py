"""`trace --save run.json` and `trace --baseline run.json`: a run's per-step, per-layer evidence
kept in a file, and a new run compared with it layer by layer and step by step (no torch).

Layers are aligned by qualified parameter (or module) name. A value diverges when it is
further than `FACTOR` times from the baseline's (gradient and update norms, activation
spreads), when one run has it and the other has none (a layer that gets no gradient), when
it is non-finite in one run only, or, for the loss, when the two differ by more than
`LOSS_TOLERANCE` of the baseline's. Seeded runs of the same script on the same machine agree
to a few digits, so anything beyond that is a real difference, not noise.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from trainlint.runtime.judging.context import fmt
from trainlint.runtime.judging.evidence import Evidence
from trainlint.runtime.records import as_float

FORMAT = "trainlint-run"
VERSION = 1
FACTOR = 4.0  # a gradient, update or activation spread this many times off the baseline's
LOSS_TOLERANCE = 0.1  # relative
FRACTION_DELTA = 0.3  # dead or saturated fraction of an activation layer, absolute
MAX_LISTED = 8  # divergences listed in the text report (JSON has them all)


class RunFileError(ValueError):
    """A `--baseline` file that cannot be read as a saved run."""


@dataclass
class LayerRun:
    """One parameter over the optimizer steps of its optimizer."""

    name: str
    order: Optional[int]  # forward order of its layer in the first training pass
    grad: List[Optional[float]] = field(default_factory=list)  # None: no gradient reached it
    update: List[Optional[float]] = field(default_factory=list)  # ||dw|| / ||w||


@dataclass
class ActivationRun:
    """A layer's output in the first training pass (std, mean), and its dead or saturated fraction."""

    name: str
    order: Optional[int] = None
    std: Optional[float] = None
    mean: Optional[float] = None
    dead: Optional[float] = None
    saturated: Optional[float] = None
    function: Optional[str] = None  # the activation function ("relu", "sigmoid"...)


@dataclass
class SavedRun:
    target: str
    seed: Optional[int]
    torch: Optional[str]
    losses: List[Optional[float]]  # per optimizer step: the mean of its backward losses
    layers: Dict[str, LayerRun]
    activations: Dict[str, ActivationRun]

    def to_json(self) -> Dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "target": self.target,
            "seed": self.seed,
            "torch": self.torch,
            "losses": [_out(v) for v in self.losses],
            "layers": [
                {
                    "name": lr.name,
                    "order": lr.order,
                    "grad": [_out(v) for v in lr.grad],
                    "update": [_out(v) for v in lr.update],
                }
                for lr in self.layers.values()
            ],
            "activations": [
                {
                    "name": a.name,
                    "order": a.order,
                    "std": _out(a.std),
                    "mean": _out(a.mean),
                    "dead": _out(a.dead),
                    "saturated": _out(a.saturated),
                    "function": a.function,
                }
                for a in self.activations.values()
            ],
        }


def saved_run(evidence: Evidence, target: str) -> SavedRun:
    """What `--save` keeps of a trace."""
    start = evidence.start
    many = len(evidence.optimizers) > 1
    info: Dict[Tuple[int, int], Tuple[str, Optional[int]]] = {}
    names = [p.name for opt in evidence.optimizers.values() for p in opt.params]
    for k, opt in sorted(evidence.optimizers.items()):
        layer_order = {p.module: p.order for p in opt.params if p.order is not None and p.module}
        for p in opt.params:
            name = f"{p.name} (optimizer {k})" if many and names.count(p.name) > 1 else p.name
            info[(k, p.i)] = (name, p.order if p.order is not None else layer_order.get(p.module))
    layers: Dict[str, LayerRun] = {}
    losses: List[Optional[float]] = []
    for s in sorted(evidence.steps, key=lambda s: s.step):
        vals = [as_float(v) for v in s.losses]
        finite = [v for v in vals if v is not None]
        losses.append(sum(finite) / len(finite) if finite and len(finite) == len(vals) else _first_bad(vals))
        for ps in s.params:
            key = info.get((s.optimizer, ps.i))
            if key is None:
                continue
            lr = layers.setdefault(key[0], LayerRun(key[0], key[1]))
            lr.grad.append(as_float(ps.grad) if ps.received else None)
            d, w = as_float(ps.delta), as_float(ps.w)
            lr.update.append(d / w if d is not None and w is not None and w > 0 else None)
    acts: Dict[str, ActivationRun] = {}
    for a in evidence.act_std:
        acts[a.module] = ActivationRun(a.module, a.order, as_float(a.std), as_float(a.mean))
    if evidence.activations is not None:
        for layer in evidence.activations.layers:
            entry = acts.setdefault(layer.name, ActivationRun(layer.name))
            entry.dead = as_float(layer.dead_fraction)
            entry.saturated = as_float(layer.saturated_fraction)
            entry.function = layer.activation
    return SavedRun(
        target=target,
        seed=start.seed if start is not None else None,
        torch=start.torch if start is not None else None,
        losses=losses,
        layers=layers,
        activations=acts,
    )


def read(path: str) -> SavedRun:
    """A saved run, or RunFileError saying what is wrong with the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise RunFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise RunFileError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RunFileError(f"{path} is not a run saved by `trainlint trace --save`")
    if data.get("version") != VERSION:
        raise RunFileError(f"{path} was saved in run format {data.get('version')!r}; this trainlint reads {VERSION}")
    try:
        layers = {
            str(e["name"]): LayerRun(
                str(e["name"]), e.get("order"), [as_float(v) for v in e["grad"]], [as_float(v) for v in e["update"]]
            )
            for e in data["layers"]
        }
        acts = {
            str(e["name"]): ActivationRun(
                str(e["name"]),
                e.get("order"),
                as_float(e.get("std")),
                as_float(e.get("mean")),
                as_float(e.get("dead")),
                as_float(e.get("saturated")),
                e.get("function"),
            )
            for e in data["activations"]
        }
        return SavedRun(
            target=str(data.get("target", "")),
            seed=data.get("seed"),
            torch=data.get("torch"),
            losses=[as_float(v) for v in data["losses"]],
            layers=layers,
            activations=acts,
        )
    except (KeyError, TypeError) as exc:
        raise RunFileError(f"{path} is missing part of a saved run ({exc})") from exc


# ---------------------------------------------------------------------- comparison
@dataclass
class Divergence:
    """One value that differs from the baseline beyond noise."""

    what: str  # "loss", "gradient norm", "update ratio", "activation", "output std", "dead fraction", "saturated fraction"
    layer: Optional[str]
    step: Optional[int]  # optimizer step (1-based); None: the first training pass
    value: Optional[float]
    baseline: Optional[float]
    order: Optional[int] = None
    change: str = ""  # what differs, when it is not a number ("sigmoid vs relu")

    @property
    def text(self) -> str:
        where = f"layer `{self.layer}` {self.what}" if self.layer else self.what
        when = "in the first training pass" if self.step is None else f"at step {self.step}"
        if self.change:
            return f"{where} {self.change} in the baseline {when}"
        if self.what == "gradient norm" and self.value is None:
            return f"layer `{self.layer}` gets no gradient (the baseline's norm: {fmt(self.baseline)}) {when}"
        return f"{where} {_versus(self.value, self.baseline, self.what)} {when}"

    def to_json(self) -> Dict[str, Any]:
        return {
            "what": self.what,
            "layer": self.layer,
            "step": self.step,
            "value": _out(self.value),
            "baseline": _out(self.baseline),
            "change": self.change or None,
            "text": self.text,
        }


@dataclass
class Comparison:
    path: str
    initial_loss: Tuple[Optional[float], Optional[float]]  # (this run, baseline)
    forward: List[Divergence]  # activations, input side first
    backward: List[Divergence]  # gradients and updates, step by step, output side first
    losses: List[Divergence]
    notes: List[str] = field(default_factory=list)

    @property
    def first(self) -> Optional[Divergence]:
        """Where the runs part: the forward pass comes before the loss, the loss before its gradients."""
        firsts = self.forward[:1] + self.losses[:1] + self.backward[:1]
        return min(firsts, key=lambda d: (d.step or 0, _PHASE[d.what]), default=None)

    @property
    def same(self) -> bool:
        return not (self.forward or self.backward or self.losses)

    def lines(self) -> List[str]:
        now, base = self.initial_loss
        out = [f"compared with the baseline run {self.path}:"]
        if now is not None or base is not None:
            same = now is not None and base is not None and _close(now, base)
            out.append(f"  loss at the first step {fmt(now)} vs {fmt(base)} ({'same' if same else 'different'})")
        first = self.first
        if first is None:
            out.append("  no divergence beyond noise: every layer's gradients, updates and activations match")
        else:
            out.append(f"  first divergence: {first.text}")
            rest = [d for d in self.forward + self.losses + self.backward if d is not first]
            for d in rest[: MAX_LISTED - 1]:
                out.append(f"  also: {d.text}")
            if len(rest) > MAX_LISTED - 1:
                out.append(f"  ... and {len(rest) - MAX_LISTED + 1} more (see --format json)")
        out.extend(f"  note: {n}" for n in self.notes)
        return out

    def to_json(self) -> Dict[str, Any]:
        first = self.first
        return {
            "baseline": self.path,
            "same": self.same,
            "initial_loss": {"run": _out(self.initial_loss[0]), "baseline": _out(self.initial_loss[1])},
            "first_divergence": first.to_json() if first is not None else None,
            "divergences": [d.to_json() for d in self.forward + self.losses + self.backward],
            "notes": list(self.notes),
        }


_PHASE = {
    "activation": 0,
    "output std": 0,
    "dead fraction": 0,
    "saturated fraction": 0,
    "loss": 1,
    "gradient norm": 2,
    "update ratio": 3,
}


def compare(run: SavedRun, base: SavedRun, path: str) -> Comparison:
    notes = _notes(run, base)
    forward: List[Divergence] = []
    for name, a in run.activations.items():
        b = base.activations.get(name)
        if b is None:
            continue
        if a.function and b.function and a.function != b.function:
            forward.append(Divergence("activation", name, None, None, None, a.order, f"{a.function} vs {b.function}"))
            continue  # (its dead and saturated fractions measure different things)
        for what, mine, theirs, ratio in (
            ("output std", a.std, b.std, True),
            ("dead fraction", a.dead, b.dead, False),
            ("saturated fraction", a.saturated, b.saturated, False),
        ):
            if _differs(mine, theirs, ratio):
                forward.append(Divergence(what, name, None, mine, theirs, a.order))
    forward.sort(key=lambda d: (d.order if d.order is not None else 10**9, d.layer or ""))
    losses = [
        Divergence("loss", None, k + 1, mine, theirs)
        for k, (mine, theirs) in enumerate(zip(run.losses, base.losses))
        if _loss_differs(mine, theirs)
    ]
    backward: List[Divergence] = []
    for name, lr in run.layers.items():
        b_lr = base.layers.get(name)
        if b_lr is None:
            continue
        for what, mine_all, theirs_all in (
            ("gradient norm", lr.grad, b_lr.grad),
            ("update ratio", lr.update, b_lr.update),
        ):
            if what == "update ratio" and any(d.layer == name for d in backward):
                break  # (an update that follows a gradient already reported)
            for k, (mine, theirs) in enumerate(zip(mine_all, theirs_all)):
                if _differs(mine, theirs, True):
                    backward.append(Divergence(what, name, k + 1, mine, theirs, lr.order))
                    break  # from this step on: the first one per layer is the one to report
    # Step by step; within a step, gradients before updates and the output side first (the
    # order backward runs in), so the first entry is where the gradient first goes wrong.
    backward.sort(key=lambda d: (d.step or 0, _PHASE[d.what], -(d.order if d.order is not None else -1), d.layer or ""))
    first_now = run.losses[0] if run.losses else None
    first_base = base.losses[0] if base.losses else None
    return Comparison(path, (first_now, first_base), forward, backward, losses, notes)


def _notes(run: SavedRun, base: SavedRun) -> List[str]:
    notes: List[str] = []
    if run.seed is None or base.seed is None:
        notes.append("one of the runs was not seeded by the tracer (--no-seed): differences may be noise")
    elif run.seed != base.seed:
        notes.append(f"the runs were seeded differently ({run.seed} vs {base.seed}): differences may be noise")
    if run.torch and base.torch and run.torch != base.torch:
        notes.append(f"torch {run.torch} here, {base.torch} in the baseline")
    only_here = [n for n in run.layers if n not in base.layers]
    only_there = [n for n in base.layers if n not in run.layers]
    if only_here:
        notes.append(f"{len(only_here)} parameter(s) only in this run: {_some(only_here)}")
    if only_there:
        notes.append(f"{len(only_there)} parameter(s) only in the baseline: {_some(only_there)}")
    if run.layers and base.layers and not set(run.layers) & set(base.layers):
        notes.append("no parameter name is shared: the models are not aligned layer by layer")
    if len(run.losses) != len(base.losses):
        notes.append(
            f"{len(run.losses)} step(s) here, {len(base.losses)} in the baseline: the common steps are compared"
        )
    return notes


def _differs(mine: Optional[float], theirs: Optional[float], ratio: bool) -> bool:
    if mine is None and theirs is None:
        return False
    if mine is None or theirs is None:
        return True  # a gradient (or a statistic) in one run only
    if math.isfinite(mine) != math.isfinite(theirs):
        return True
    if not math.isfinite(mine):
        return False
    if not ratio:
        return abs(mine - theirs) > FRACTION_DELTA
    if mine == 0 or theirs == 0:
        return (mine == 0) != (theirs == 0) and max(abs(mine), abs(theirs)) > 1e-12
    r = abs(mine) / abs(theirs)
    return r > FACTOR or r < 1 / FACTOR


def _loss_differs(mine: Optional[float], theirs: Optional[float]) -> bool:
    if mine is None or theirs is None:
        return mine is not theirs
    if math.isfinite(mine) != math.isfinite(theirs):
        return True
    return math.isfinite(mine) and not _close(mine, theirs)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= LOSS_TOLERANCE * max(abs(b), 1e-8)


def _versus(value: Optional[float], base: Optional[float], what: str) -> str:
    if value is None and what == "gradient norm":
        return f"gets no gradient (baseline: {fmt(base)})"
    if base is None and what == "gradient norm":
        return f"is {fmt(value)} where the baseline got no gradient"
    if value is None or base is None:
        return f"{fmt(value)} vs {fmt(base)} in the baseline"
    if (
        math.isfinite(value)
        and math.isfinite(base)
        and value
        and base
        and what not in ("dead fraction", "saturated fraction", "loss")
    ):
        r = abs(value) / abs(base)
        how = f"{fmt(r)}× larger" if r >= 1 else f"{fmt(1 / r)}× smaller"
        return f"{fmt(value)}, {how} than the baseline's {fmt(base)}"
    return f"{fmt(value)} vs {fmt(base)} in the baseline"


def _out(v: Optional[float]) -> Any:
    """JSON has no NaN or Inf: they are spelled out as strings."""
    if v is None or math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _first_bad(vals: List[Optional[float]]) -> Optional[float]:
    return next((v for v in vals if v is not None and not math.isfinite(v)), None)


def _some(names: List[str]) -> str:
    return ", ".join(f"`{n}`" for n in names[:4]) + (", ..." if len(names) > 4 else "")
