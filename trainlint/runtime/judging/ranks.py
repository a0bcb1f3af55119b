"""One report for the ranks of a distributed trace.

Each rank is judged on its own evidence. A finding every rank judged alike is reported once;
where the ranks disagree (a NaN on one rank only, a suspicion confirmed on one and refuted on
another), the report keeps the strongest verdict and says how each rank judged it.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Tuple

from trainlint.diagnostics import Diagnostic, Status

# Which verdict speaks for the ranks when they differ: evidence of a defect on any rank wins.
_STRENGTH = {Status.CONFIRMED: 3, Status.UNVERIFIED: 2, Status.SUSPECTED: 1, Status.REFUTED: 0}

Key = Tuple[str, str, int, int]


def _key(d: Diagnostic) -> Key:
    return (d.code, d.path, d.span.line, d.span.column)


def merge_ranks(per_rank: List[List[Diagnostic]]) -> List[Diagnostic]:
    world = len(per_rank)
    found: Dict[Key, Dict[int, Diagnostic]] = {}
    for rank, diagnostics in enumerate(per_rank):
        for d in diagnostics:
            found.setdefault(_key(d), {})[rank] = d
    out: List[Diagnostic] = []
    for by_rank in found.values():
        strongest = max(by_rank.values(), key=lambda d: _STRENGTH.get(d.status, 0))
        statuses = {rank: d.status for rank, d in sorted(by_rank.items())}
        message = strongest.message
        if len(by_rank) < world:
            ranks = ", ".join(str(r) for r in statuses)
            message += f" (seen on rank{'s' if len(by_rank) > 1 else ''} {ranks} of {world} only)"
        elif len(set(statuses.values())) > 1:
            message += " (the ranks disagree: " + ", ".join(f"rank {r} {s.value}" for r, s in statuses.items()) + ")"
        evidence = dict(strongest.evidence or {})
        evidence["ranks"] = {str(r): s.value for r, s in statuses.items()}
        out.append(dataclasses.replace(strongest, message=message, evidence=evidence))
    return sorted(out, key=Diagnostic.sort_key)
