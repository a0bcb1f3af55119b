"""Syntax trees sent from worker processes to the main one (see `pipeline.py`, split components).

libcst's trees are plain Python objects; pickle is the fastest way to move them. Loading a
pickle can call any importable function (libcst's own modules import `os` and `subprocess`),
so the loader here only hands out what a tree is made of: libcst's node classes and its
enums (`MaybeSentinel`), from modules already imported, by plain names. Calling one of those
builds a node or looks up an enum member, nothing else: a spool file that someone else wrote
could at worst fail to load.
"""

from __future__ import annotations

import enum
import io
import pickle
import sys
from typing import Any

import libcst as cst


def dump(tree: cst.Module) -> bytes:
    return pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)


class _TreeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        mod = sys.modules.get(module) if module.startswith("libcst.") and name.isidentifier() else None
        obj = getattr(mod, name, None)
        if isinstance(obj, type) and issubclass(obj, (cst.CSTNode, enum.Enum)) and obj.__module__.startswith("libcst."):
            return obj
        raise pickle.UnpicklingError(f"not part of a libcst syntax tree: {module}.{name}")


def load(data: "bytes | memoryview") -> cst.Module:
    tree = _TreeUnpickler(io.BytesIO(data)).load()
    if not isinstance(tree, cst.Module):
        raise pickle.UnpicklingError("not a libcst syntax tree")
    return tree
