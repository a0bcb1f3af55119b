"""Custom autograd Functions: the first call of each is captured (small copies of its inputs),
and at the end of the run its backward is checked against finite differences (TL913).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import torch

from trainlint.runtime.child import sites
from trainlint.runtime.child.patching import Patcher

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer


class FunctionWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        # class -> (captured args, kwargs, site of its backward) of its first call
        self.functions: Dict[type, Tuple[Any, Any, Optional[sites.Site]]] = {}
        self.checked = False

    def capture(self, cls: type, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        # The hand-written backward is what TL913 checks, so that is where the finding points.
        code = getattr(getattr(cls, "backward", None), "__code__", None)
        if code is None:
            return
        code_file, line = code.co_filename, code.co_firstlineno
        if sites.is_library_path(code_file):
            return
        if not any(isinstance(a, torch.Tensor) and a.requires_grad for a in args):
            return
        from trainlint.runtime.child.gradcheck import shrink

        self.functions[cls] = (
            shrink(args, int(self.tracer.opt("TL913", "max_rows", 4))),
            dict(kwargs),
            (sites.absolute(code_file), line),
        )

    def check(self) -> None:
        """At the end of the run: each captured Function's backward against finite differences."""
        if self.checked:
            return
        self.checked = True
        from trainlint.runtime.child.gradcheck import check_function

        tracer = self.tracer
        for cls, (args, kwargs, site) in list(self.functions.items()):
            tracer.emit(check_function(cls, args, kwargs, tracer.options.get("TL913", {}), sites.code_site(site)))


def install(tracer: Tracer, patcher: Patcher) -> None:
    func_cls = torch.autograd.Function

    def make(original: Any) -> Any:
        inner = original.__func__

        def apply(cls: type, *args: Any, **kwargs: Any) -> Any:
            if tracer.recording and cls not in tracer.functions.functions and torch.is_grad_enabled():
                try:
                    tracer.functions.capture(cls, args, kwargs)
                except Exception as exc:
                    tracer.internal("function", exc)
            return inner(cls, *args, **kwargs)

        return classmethod(apply)

    patcher.replace(func_cls, "apply", make)
