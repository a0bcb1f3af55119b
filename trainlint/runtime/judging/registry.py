"""The runtime side of the rules, read from their `Rule`s: each static rule's verdict and what
its rule says about judging it, and each runtime-only rule's check (all in the rule files)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.context import Ctx, Verdict

if TYPE_CHECKING:
    from trainlint.rules.base import Rule

VerdictFn = Callable[[Ctx, Diagnostic], Optional[Verdict]]
FindingFn = Callable[[Ctx], List[Diagnostic]]
# When a rule judged on an evaluation pass is suspected and no evaluation ran within the
# requested steps, the run goes on (watching forward passes only) for up to this many more
# optimizer steps, since scripts often evaluate once per epoch.
EVAL_WAIT_STEPS = 200


def _rule(code: str) -> Optional["Rule"]:
    from trainlint import registry

    return registry.RULES.get(code)


def runtime_checks() -> List[Tuple[str, FindingFn]]:
    """(code, check) of every runtime-only rule, in code order."""
    from trainlint import registry

    return [(r.code, r.runtime_check) for r in registry.all_rules() if r.runtime_check is not None]


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
