"""trainlint: find the silent bugs of PyTorch training code, statically and at run time."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The tracer API imports torch; load it only when asked for.
    if name in ("tracing", "trace_script"):
        from trainlint.runtime import api  # type: ignore[attr-defined]

        return getattr(api, name)
    raise AttributeError(name)
