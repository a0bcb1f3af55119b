"""TL920 reshape-permutes-axes: `view`/`reshape` turns a shape into a permutation of itself."""

from __future__ import annotations

from typing import List, Set, Tuple

from trainlint.analysis.shapes import swap_call
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx


def findings_tl920(c: Ctx) -> List[Diagnostic]:
    out: List[Diagnostic] = []
    done: Set[Tuple[str, int]] = set()
    for v in c.ev.views:
        key = (v.site.path, v.site.line)
        if key in done:
            continue
        if any(d.code == "TL407" and c.at(d, v.site) for d in c.static):
            continue  # the static TL407 names this line already, and its verdict cites this record
        done.add(key)
        before, after = tuple(v.input_shape), tuple(v.output_shape)
        use = _transpose_for(before, after)
        out.append(
            runtime_finding(
                c,
                "TL920",
                f"`.{v.fn}` at {c.where(v.site) or 'this line'} turned a tensor of shape {_shape(before)} into "
                f"{_shape(after)} in `{v.model}`'s training pass: the same sizes in another order. `{v.fn}` does "
                "not move elements, so the axes are scrambled rather than swapped (every row mixes values of "
                f"different positions and channels). Use `{use}` (then `.contiguous()` if a view is needed); "
                "if the data really is laid out that way (a flat buffer), add `# noqa: TL920`.",
                v.site,
                {
                    "observed": f"`{v.fn}` of a {_shape(before)} tensor into {_shape(after)}",
                    "expected": "a transpose or permute when axes change places",
                    "call": v.fn,
                    "input_shape": list(before),
                    "output_shape": list(after),
                    "suggested": use,
                },
            )
        )
    return out


def _shape(s: Tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in s) + ")"


def _transpose_for(before: Tuple[int, ...], after: Tuple[int, ...]) -> str:
    """The transpose or permute that gives `after` from `before` (the moved sizes are distinct)."""
    moved = [i for i, (b, a) in enumerate(zip(before, after)) if b != a]
    order = [next(i for i in moved if before[i] == a) if k in moved else k for k, a in enumerate(after)]
    return "." + swap_call(order)


RULE = Rule(
    code="TL920",
    name="reshape-permutes-axes",
    family="runtime",
    severity=WARNING,
    summary="`view`/`reshape` reorders a tensor's sizes where a transpose or permute was meant.",
    kind="runtime",
    runtime_check=findings_tl920,
)
