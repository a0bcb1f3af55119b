"""`torch.compile` under the tracer: the traced steps run eagerly.

The tracer observes a run through global module hooks, patched functions and parameter
hooks. TorchDynamo cannot compile through them (it fails while tracing the hooked module,
before the first step), so a compiled script would fail only because it is traced. The
compilation is therefore skipped for the traced run: `torch.compile(model)` hands back the
model itself, used as a decorator it leaves the function as it is, and `module.compile()`
does nothing. What the steps compute is the same (compiling changes how, not what); the
report says compilation was skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List

from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.records import RunNote

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer

NOTE = (
    "torch.compile was skipped for the traced run: the tracer's hooks cannot be compiled, so "
    "the traced steps ran eagerly (they compute the same values; speed is not representative)"
)


def install(tracer: Tracer, patcher: Patcher) -> None:
    import torch

    said: List[bool] = []

    def note() -> None:
        if not said:
            said.append(True)
            tracer.emit(RunNote(message=NOTE))

    def eager_compile(original: Callable[..., Any]) -> Callable[..., Any]:
        def compile_(model: Any = None, *args: Any, **kwargs: Any) -> Any:
            note()
            if model is None:  # `@torch.compile(mode=...)`: a decorator
                return lambda fn: fn
            return model

        return compile_

    def eager_module_compile(original: Callable[..., Any]) -> Callable[..., Any]:
        def compile_(self: Any, *args: Any, **kwargs: Any) -> None:
            note()

        return compile_

    patcher.replace(torch, "compile", eager_compile)
    patcher.replace(torch.nn.Module, "compile", eager_module_compile)
