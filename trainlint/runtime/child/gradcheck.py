"""TL913: check a custom autograd Function's backward against finite differences.

The inputs are small slices of what the Function actually received during the run, promoted to
float64 so that central differences are accurate enough to tell a wrong formula from rounding.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from trainlint.runtime.records import CodeSite, FunctionGradcheck

_FULL_COPY_LIMIT = 4096


@dataclass
class Captured:
    """A copy of one tensor argument (sliced along the batch dimension) and its grad flag."""

    sliced: torch.Tensor
    full: Optional[torch.Tensor]
    requires_grad: bool


def shrink(args: Sequence[Any], max_rows: int) -> Tuple[Any, ...]:
    lead = next((a.shape[0] for a in args if isinstance(a, torch.Tensor) and a.dim() >= 1), None)
    out: List[Any] = []
    for a in args:
        if isinstance(a, torch.Tensor):
            t = a.detach()
            sliced = t[:max_rows] if lead is not None and t.dim() >= 1 and t.shape[0] == lead and lead > max_rows else t
            full = t.clone() if t.numel() <= _FULL_COPY_LIMIT else None
            out.append(Captured(sliced.clone(), full, bool(a.requires_grad)))
        else:
            out.append(a)
    return tuple(out)


def _inputs(captured: Sequence[Any], use_full: bool) -> Optional[List[Any]]:
    xs: List[Any] = []
    for c in captured:
        if isinstance(c, Captured):
            t = c.full if use_full else c.sliced
            if t is None:
                return None
            if t.is_floating_point():
                t = t.to(torch.float64).requires_grad_(c.requires_grad)
            xs.append(t)
        else:
            xs.append(c)
    return xs


def _outputs(out: Any) -> List[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [o for o in out if isinstance(o, torch.Tensor) and o.is_floating_point()]
    return []


def _directional(fn: Any, xs: List[Any], eps: float) -> Tuple[float, float]:
    """Analytic vs numeric derivative along one random direction (seeded, user RNG untouched)."""
    gen = torch.Generator().manual_seed(0)
    diff = [i for i, x in enumerate(xs) if isinstance(x, torch.Tensor) and x.requires_grad]
    outs = _outputs(fn(*xs))
    vs = [torch.randn(o.shape, generator=gen, dtype=torch.float64).to(o.device) for o in outs]
    us = [torch.randn(xs[i].shape, generator=gen, dtype=torch.float64).to(xs[i].device) for i in diff]
    dot = torch.stack([(o.to(torch.float64) * v).sum() for o, v in zip(outs, vs)]).sum()
    grads = torch.autograd.grad(dot, [xs[i] for i in diff], allow_unused=True)
    analytic = sum(float((g * u).sum()) for g, u in zip(grads, us) if g is not None)

    def shifted(sign: float) -> float:
        ys = list(xs)
        with torch.no_grad():
            for i, u in zip(diff, us):
                ys[i] = xs[i].detach() + sign * eps * u
            return float(sum((o.to(torch.float64) * v).sum() for o, v in zip(_outputs(fn(*ys)), vs)))

    numeric = (shifted(1.0) - shifted(-1.0)) / (2 * eps)
    return analytic, numeric


def check_function(
    cls: Any, captured: Sequence[Any], kwargs: Dict[str, Any], options: Dict[str, Any], site: Optional[CodeSite]
) -> FunctionGradcheck:
    eps = float(options.get("eps", 1e-6))
    atol = float(options.get("atol", 1e-5))
    rtol = float(options.get("rtol", 1e-3))

    # `torch.autograd.gradcheck` is the function; its module holds the error class.
    error = importlib.import_module("torch.autograd.gradcheck").GradcheckError

    def fn(*xs: Any) -> Any:
        return cls.apply(*xs, **kwargs)

    last_error = ""
    for use_full in (False, True):
        xs = _inputs(captured, use_full)
        if xs is None:
            continue
        shapes = [list(x.shape) for x in xs if isinstance(x, torch.Tensor)]
        try:
            with torch.enable_grad():
                passed = True
                message = ""
                try:
                    torch.autograd.gradcheck(fn, tuple(xs), eps=eps, atol=atol, rtol=rtol, raise_exception=True)
                except error as exc:
                    passed = False
                    message = str(exc).strip().splitlines()[0][:300]
                analytic, numeric = _directional(fn, xs, eps)
        except Exception as exc:  # the Function could not run on these inputs; try the next form
            last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        return FunctionGradcheck(
            name=cls.__qualname__,
            site=site,
            checked=True,
            passed=passed,
            message=message,
            shapes=shapes,
            analytic=analytic,
            numeric=numeric,
            eps=eps,
            atol=atol,
            rtol=rtol,
        )
    return FunctionGradcheck(
        name=cls.__qualname__,
        site=site,
        checked=False,
        passed=None,
        message=last_error or "no input copy small enough to check",
    )
