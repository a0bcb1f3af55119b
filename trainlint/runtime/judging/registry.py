"""Where verdicts and runtime-only findings register, one function per rule code, and what is
known about rules as a group (no runtime check, confirmed by a crash, judged on evaluation)."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.context import Ctx, Verdict

VerdictFn = Callable[[Ctx, Diagnostic], Optional[Verdict]]
FindingFn = Callable[[Ctx], List[Diagnostic]]
VERDICTS: Dict[str, VerdictFn] = {}
FINDINGS: Dict[str, FindingFn] = {}

# Rules with no runtime check: left `unverified`, saying so.
NO_RUNTIME_CHECK = {
    "TL207": "softmax's default dim is a matter of code, not of values",
    "TL604": "the tracer does not follow Python accumulators across iterations",
}
# Rules whose bug typically makes torch raise at the reported line: the error confirms them.
CONFIRMED_BY_CRASH = {"TL108", "TL203", "TL205", "TL601", "TL602", "TL603"}
# Rules judged on an evaluation pass: when one is suspected and no evaluation ran within the
# requested steps, the run goes on (watching forward passes only) for up to EVAL_WAIT_STEPS
# more optimizer steps, since scripts often evaluate once per epoch.
NEEDS_EVAL_PASS = {"TL403", "TL404", "TL405"}
EVAL_WAIT_STEPS = 200


def verdict(code: str) -> Callable[[VerdictFn], VerdictFn]:
    """Register the verdict on a static `code` suspicion: confirmed, refuted, or None (no evidence)."""

    def deco(fn: VerdictFn) -> VerdictFn:
        VERDICTS[code] = fn
        return fn

    return deco


def finding(code: str) -> Callable[[FindingFn], FindingFn]:
    """Register a runtime-only check: the findings of `code` the run shows."""

    def deco(fn: FindingFn) -> FindingFn:
        FINDINGS[code] = fn
        return fn

    return deco
