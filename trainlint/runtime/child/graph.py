"""Walks over the autograd graph behind a loss."""

from __future__ import annotations

from typing import Any, List, Set

import torch


def graph_nodes(root: Any, limit: int = 100_000) -> Set[int]:
    """The ids of the graph nodes reachable from `root`."""
    seen: Set[int] = set()
    stack = [root]
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for nxt, _ in getattr(node, "next_functions", ()):
            if nxt is not None:
                stack.append(nxt)
    return seen


def graph_leaves(loss: torch.Tensor, limit: int = 100_000) -> List[torch.Tensor]:
    """The leaf tensors that a backward from `loss` would write `.grad` into."""
    if loss.grad_fn is None:
        return [loss] if loss.requires_grad else []
    leaves: List[torch.Tensor] = []
    seen: Set[int] = set()
    stack = [loss.grad_fn]
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if isinstance(var, torch.Tensor):
            leaves.append(var)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return leaves
