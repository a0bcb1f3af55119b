"""Replace attributes (functions, methods) and put every original back on exit."""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

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
