"""Dotted names and import aliases: `nn.CrossEntropyLoss` -> `torch.nn.CrossEntropyLoss`."""

from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst


def dotted(expr: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    # `type(...) is`, not isinstance: libcst's node classes are ABCs, whose instance checks
    # are slow, and this runs for every call the rules look at (neither class is subclassed).
    node: cst.BaseExpression = expr
    t = type(node)
    if t is cst.Name:
        return node.value  # type: ignore[attr-defined,no-any-return]
    parts = []
    while t is cst.Attribute:
        parts.append(node.attr.value)  # type: ignore[attr-defined]
        node = node.value  # type: ignore[attr-defined]
        t = type(node)
    if t is cst.Name:
        parts.append(node.value)  # type: ignore[attr-defined]
        return ".".join(reversed(parts))
    return None


def is_self(expr: cst.BaseExpression) -> bool:
    """The name `self`."""
    return isinstance(expr, cst.Name) and expr.value == "self"


def attr_to_str(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Attribute):
        return f"{attr_to_str(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Name):
        return node.value
    return ""


class ImportTable:
    """Local name -> fully qualified dotted name, from every import in a module.

    Imports are collected flow-insensitively: a name imported anywhere in the module
    (also inside a function) means the same thing everywhere, which is how training
    scripts use them in practice.
    """

    def __init__(self, package: str = "") -> None:
        self.alias: Dict[str, str] = {}
        self.package = package  # dotted package of the module, for relative imports
        # Conventional names a fragment uses without importing or binding them (`nn` for
        # `torch.nn`...), set by the engine; consulted only after the real imports.
        self.assumed: Dict[str, str] = {}
        # Modules imported with `from x import *` (qualified), in import order.
        self.stars: List[str] = []

    def add_import(self, node: cst.Import) -> None:
        for item in node.names:
            full = attr_to_str(item.name)
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                self.alias[item.asname.name.value] = full
            else:
                head = full.split(".", 1)[0]
                self.alias.setdefault(head, head)

    def add_import_from(self, node: cst.ImportFrom) -> None:
        base = attr_to_str(node.module) if node.module is not None else ""
        if node.relative:
            depth = len(node.relative)
            pkg_parts = self.package.split(".") if self.package else []
            if depth > 1:
                pkg_parts = pkg_parts[: len(pkg_parts) - (depth - 1)] if depth - 1 <= len(pkg_parts) else []
            base = ".".join([p for p in pkg_parts if p] + ([base] if base else []))
        if isinstance(node.names, cst.ImportStar):
            if base and base not in self.stars:
                self.stars.append(base)
            return
        for item in node.names:
            name = attr_to_str(item.name)
            local = name
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                local = item.asname.name.value
            self.alias[local] = f"{base}.{name}" if base else name

    def qualify(self, expr: cst.BaseExpression) -> Optional[str]:
        d = dotted(expr)
        if d is None:
            return None
        return self.qualify_dotted(d)

    def qualify_dotted(self, d: str) -> Optional[str]:
        head, _, rest = d.partition(".")
        full = self.alias.get(head)
        if full is None:
            full = self.assumed.get(head)
            if full is None:
                return None
        return f"{full}.{rest}" if rest else full


def str_key(sub: cst.Subscript) -> Optional[str]:
    """The literal string key of `x["scores"]`."""
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return None
    value = sub.slice[0].slice.value
    key = value.evaluated_value if isinstance(value, cst.SimpleString) else None
    return key if isinstance(key, str) else None
