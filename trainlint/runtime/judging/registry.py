"""The runtime side of the rules: each static rule's verdict (its `Rule.verdict`, in its rule
file) and what its `Rule` says about judging it; runtime-only findings register here, one
function per TL9xx code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, List, Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.context import Ctx, Verdict

if TYPE_CHECKING:
    from trainlint.rules.base import Rule

VerdictFn = Callable[[Ctx, Diagnostic], Optional[Verdict]]
FindingFn = Callable[[Ctx], List[Diagnostic]]
FINDINGS: Dict[str, FindingFn] = {}

# When a rule judged on an evaluation pass is suspected and no evaluation ran within the
# requested steps, the run goes on (watching forward passes only) for up to this many more
# optimizer steps, since scripts often evaluate once per epoch.
EVAL_WAIT_STEPS = 200


def _rule(code: str) -> Optional["Rule"]:
    from trainlint import registry

    return registry.RULES.get(code)


def verdict_of(code: str) -> Optional[VerdictFn]:
    """The verdict on a static `code` suspicion: confirmed, refuted, or None (no evidence)."""
    rule = _rule(code)
    return rule.verdict if rule is not None else None


def no_runtime_check(code: str) -> str:
    """Why `code` has no runtime check ("" when it has one, or is not a static rule)."""
    rule = _rule(code)
    return rule.no_runtime_check if rule is not None else ""


def confirmed_by_crash(code: str) -> bool:
    rule = _rule(code)
    return rule is not None and rule.confirmed_by_crash


def needs_eval_pass(code: str) -> bool:
    rule = _rule(code)
    return rule is not None and rule.needs_eval_pass


def finding(code: str) -> Callable[[FindingFn], FindingFn]:
    """Register a runtime-only check: the findings of `code` the run shows."""

    def deco(fn: FindingFn) -> FindingFn:
        FINDINGS[code] = fn
        return fn

    return deco
