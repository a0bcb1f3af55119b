"""Replace attributes (functions, methods) and put every original back on exit."""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Tuple

_MISSING = object()


class Patcher:
    def __init__(self) -> None:
        self._saved: List[Tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, make: Callable[[Any], Any]) -> bool:
        """Set `owner.name = make(original)`; False when the attribute does not exist."""
        original = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)
        if original is _MISSING:
            return False
        setattr(owner, name, make(original))
        self._saved.append((owner, name, original))
        return True

    def restore(self) -> None:
        # Last in, first out, so an attribute patched twice ends at its true original.
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)


# What wraps a backward pass: `around(original, loss, args, kwargs)` calls `original(*args,
# **kwargs)` and returns its result; `loss` is the tensor backward runs from.
Around = Callable[[Callable[..., Any], Any, Tuple[Any, ...], Dict[str, Any]], Any]


def patch_backward(patcher: "Patcher", around: Around) -> None:
    """Route `Tensor.backward` and `torch.autograd.backward` through `around` (the latter with
    the first tensor it is given as the loss)."""
    import torch

    from trainlint.runtime.child import probes

    def tensor_backward(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def backward(loss: Any, *args: Any, **kwargs: Any) -> Any:
            return around(original, loss, (loss,) + args, kwargs)

        return backward

    def autograd_backward(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
            first = tensors if isinstance(tensors, torch.Tensor) else probes.first_tensor(tensors)
            return around(original, first, (tensors,) + args, kwargs)

        return backward

    patcher.replace(torch.Tensor, "backward", tensor_backward)
    patcher.replace(torch.autograd, "backward", autograd_backward)
