"""`view`/`reshape` calls that permute a shape (TL920), watched in each model's first training
pass only.

`x.view(B, C, T)` on a `(B, T, C)` tensor runs without error and keeps the elements where they
are: the axes are scrambled, not swapped. While a model's first training forward pass runs,
`Tensor.view`, `Tensor.reshape` and `torch.reshape` are wrapped; the patch is put in place when
the pass starts and taken out when it ends, so later steps, evaluation and `--watch` runs call
the originals. A wrapped call costs a shape comparison; only a call whose output shape is a
permutation of its input's looks at the caller's frame (user code, not torch's own).
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional, Set, Tuple

import torch

from trainlint.runtime.child import sites
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.records import CodeSite, ViewPermute

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer

_MAX_RECORDS = 20


def permuted(before: Tuple[int, ...], after: Tuple[int, ...]) -> bool:
    """`after` reorders `before`'s sizes, and the sizes that moved are distinct and above 1
    (so which axes were swapped is unambiguous; moving a size-1 axis scrambles nothing)."""
    if len(before) < 2 or len(before) != len(after) or before == after or sorted(before) != sorted(after):
        return False
    moved = [b for b, a in zip(before, after) if b != a]
    return len(set(moved)) == len(moved) and min(moved) > 1


def _compiling() -> bool:
    compiler = getattr(torch, "compiler", None)
    is_compiling = getattr(compiler, "is_compiling", None)
    return bool(is_compiling is not None and is_compiling()) or bool(torch.jit.is_tracing())


class ViewWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.model = ""
        self.seen: Set[Tuple[str, int]] = set()
        self.patcher = Patcher()  # its own: undone at the end of each pass, not at uninstall

    def start(self, model: str) -> None:
        """Wrap the calls for the pass of `model` that begins (a no-op if already wrapped)."""
        if self.patcher.active or len(self.seen) >= _MAX_RECORDS or _compiling():
            return  # (TorchDynamo or TorchScript tracing the pass: their graphs stay free of wrappers)
        self.model = model
        self.patcher.replace(torch.Tensor, "view", lambda o: self._method("view", o), inherited=True)
        self.patcher.replace(torch.Tensor, "reshape", lambda o: self._method("reshape", o), inherited=True)
        self.patcher.replace(torch, "reshape", self._function)

    def stop(self) -> None:
        """Put the originals back (`view` and `reshape` are inherited from the C base class: the
        shadows on `torch.Tensor` are removed, leaving the class as it was)."""
        self.patcher.restore()

    def _method(self, fn: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def call(self_: Any, *args: Any, **kwargs: Any) -> Any:
            out = original(self_, *args, **kwargs)
            if isinstance(out, torch.Tensor) and permuted(tuple(self_.shape), tuple(out.shape)):
                self._seen(fn, self_, out, sys._getframe(1))
            return out

        return call

    def _function(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def call(x: Any, *args: Any, **kwargs: Any) -> Any:
            out = original(x, *args, **kwargs)
            if (
                isinstance(x, torch.Tensor)
                and isinstance(out, torch.Tensor)
                and permuted(tuple(x.shape), tuple(out.shape))
            ):
                self._seen("reshape", x, out, sys._getframe(1))
            return out

        return call

    def _seen(self, fn: str, x: torch.Tensor, out: torch.Tensor, caller: Any) -> None:
        try:
            if not self.tracer.recording:
                return  # (the run was stopped while the pass ran: the wrappers go at uninstall)
            site = self._user_line(caller)
            if site is None or site in self.seen or len(self.seen) >= _MAX_RECORDS:
                return
            self.seen.add(site)
            self.tracer.emit(
                ViewPermute(
                    model=self.model,
                    fn=fn,
                    site=CodeSite(site[0], site[1]),
                    input_shape=list(x.shape),
                    output_shape=list(out.shape),
                )
            )
        except Exception as exc:  # never raised into the script
            self.tracer.internal("view", exc)

    @staticmethod
    def _user_line(frame: Any) -> Optional[sites.Site]:
        """The caller's line when the caller is the user's code (torch's own reshapes, and those
        of other libraries, are theirs to get right)."""
        if frame is None or sites.is_library_code(frame.f_code):
            return None
        return (sites.absolute(frame.f_code.co_filename), frame.f_lineno)
