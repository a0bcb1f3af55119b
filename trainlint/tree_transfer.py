"""Syntax trees sent from worker processes to the main one (see `pipeline.py`, split components).

libcst's trees are plain Python objects; pickle is the fastest way to move them. A node is
written as its class and the tuple of its fields (half the time of pickle's default way for
libcst's nodes, a dictionary of their slots per node) and rebuilt by `_node`. Loading a
pickle can call any importable function (libcst's own modules import `os` and `subprocess`),
so the loader here only hands out what a tree is made of: libcst's node classes and its
enums (`MaybeSentinel`), from modules already imported, by plain names, and `_node`, which
only sets the fields of a new node of a libcst node class. A spool file that someone else
wrote could at worst fail to load.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import operator
import pickle
import sys
from itertools import repeat
from typing import Any, Callable, Dict, Tuple

import libcst as cst

_FIELDS: Dict[type, Tuple[Tuple[str, ...], Callable[[Any], Tuple[Any, ...]]]] = {}
_new = object.__new__
_set = object.__setattr__  # libcst's nodes are frozen dataclasses


def _fields(cls: type) -> Tuple[Tuple[str, ...], Callable[[Any], Tuple[Any, ...]]]:
    """The names of a node class's fields, and a function giving a node's values of them."""
    found = _FIELDS.get(cls)
    if found is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        if len(names) > 1:
            values: Callable[[Any], Tuple[Any, ...]] = operator.attrgetter(*names)
        else:
            one = [operator.attrgetter(n) for n in names]
            values = lambda node: tuple(get(node) for get in one)  # noqa: E731
        found = _FIELDS[cls] = (names, values)
    return found


def _node(cls: type, values: Tuple[Any, ...]) -> cst.CSTNode:
    """A node of class `cls` with these field values (what `_TreePickler` wrote)."""
    if not (isinstance(cls, type) and issubclass(cls, cst.CSTNode)) or not isinstance(values, tuple):
        raise pickle.UnpicklingError("not a libcst syntax tree")
    names = _fields(cls)[0]
    if len(values) != len(names):
        raise pickle.UnpicklingError("not a libcst syntax tree")
    node = _new(cls)
    any(map(_set, repeat(node), names, values))
    return node  # type: ignore[no-any-return]


class _TreePickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, cst.CSTNode):
            return (_node, (type(obj), _fields(type(obj))[1](obj)))
        return NotImplemented


def dump(tree: cst.Module) -> bytes:
    out = io.BytesIO()
    _TreePickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(tree)
    return out.getvalue()


class _TreeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_node":
            return _node
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
