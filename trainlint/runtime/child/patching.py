"""Replace attributes (functions, methods) and put every original back on exit."""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Tuple

_MISSING = object()


class Patcher:
    def __init__(self) -> None:
        self._saved: List[Tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, make: Callable[[Any], Any], inherited: bool = False) -> bool:
        """Set `owner.name = make(original)`; False when the attribute does not exist. With
        `inherited`, a class attribute defined on a base class (`Tensor.view` comes from the C
        base) is shadowed on `owner`, and `restore` removes the shadow again."""
        original = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)
        if original is _MISSING and inherited and isinstance(owner, type) and hasattr(owner, name):
            setattr(owner, name, make(getattr(owner, name)))
            self._saved.append((owner, name, _MISSING))
            return True
        if original is _MISSING:
            return False
        setattr(owner, name, make(original))
        self._saved.append((owner, name, original))
        return True

    @property
    def active(self) -> bool:
        """Something is replaced (and not restored yet)."""
        return bool(self._saved)

    def restore(self) -> None:
        # Last in, first out, so an attribute patched twice ends at its true original.
        while self._saved:
            owner, name, original = self._saved.pop()
            if original is _MISSING:
                try:
                    delattr(owner, name)  # the inherited attribute shows through again
                except AttributeError:
                    pass  # (already removed by someone else)
            else:
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
