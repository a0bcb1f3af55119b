"""Syntax trees sent from worker processes to the main one (see `pipeline.py`, split components).

libcst's trees are plain Python objects; pickle is the fastest way to move them. Loading a
pickle can call any importable function, so the loader here only builds libcst's own node,
whitespace and enum classes: a spool file that someone else wrote could at worst fail to load.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import libcst as cst


def dump(tree: cst.Module) -> bytes:
    return pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)


class _TreeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "libcst" or module.startswith("libcst."):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"not a libcst syntax tree: refers to {module}.{name}")


def load(data: "bytes | memoryview") -> cst.Module:
    tree = _TreeUnpickler(io.BytesIO(data)).load()
    if not isinstance(tree, cst.Module):
        raise pickle.UnpicklingError("not a libcst syntax tree")
    return tree
