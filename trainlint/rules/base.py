"""What a rule is: its metadata, its options, its check, its fixes and its runtime verdict.

Every rule lives in one file, `rules/<family>/tlNNN_<name>.py`, that ends with

    RULE = Rule(code="TL101", name="missing-zero-grad", family="loop", severity=ERROR,
                summary="...", check=missing_zero_grad, fixes=(fix_tl101,))

`trainlint.registry` collects those objects; nothing else lists the rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple, Type

import libcst as cst

from trainlint.diagnostics import Fix, Severity

if TYPE_CHECKING:
    from trainlint.analysis.facts import ModuleFacts
    from trainlint.analysis.loops import LoopAnalyzer
    from trainlint.analysis.project import Project
    from trainlint.analysis.symbols import Resolver

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass
class Finding:
    """A rule's report, still in terms of syntax nodes; the engine turns it into a Diagnostic."""

    code: str
    module: "ModuleFacts"
    node: cst.CSTNode
    message: str
    related: List[Tuple["ModuleFacts", cst.CSTNode, str]] = field(default_factory=list)
    severity: Optional[Severity] = None  # None: the rule's default
    fix: Optional[Fix] = None
    # Builds the fix lazily, given a position lookup (only when fixes are asked for).
    fix_builder: Optional[Callable[..., Optional[Fix]]] = None


@dataclass
class RuleContext:
    module: "ModuleFacts"
    project: "Project"
    resolver: "Resolver"
    loops: "LoopAnalyzer"
    options: Dict[str, Any]


RuleFunc = Callable[[RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class NoOptions:
    """The options of a rule that has none."""


@dataclass(frozen=True)
class Rule:
    """One rule. Codes and names are public (users put them in `--select`, `# noqa` and
    config), so they never change once released."""

    code: str
    name: str
    family: str
    severity: Severity
    summary: str
    kind: str = "static"  # "static" | "runtime" (tracer only) | "tool" (about trainlint itself)
    default_enabled: bool = True
    fixable: bool = False  # promised in the docs; the consistency test holds it to `fixes`
    # `[tool.trainlint.<CODE>]` keys and their defaults (the default's type is the accepted type).
    options: Type[Any] = NoOptions
    check: Optional[RuleFunc] = None  # static rules only
    # The builders of its fixes (`fix_tlNNN`), attached to findings by `check`.
    fixes: Tuple[Callable[..., Optional[Fix]], ...] = ()
    # Judges one of its static findings against the tracer's evidence (`runtime/judging/`):
    # `verdict(ctx, diagnostic)` returns a confirmed or refuted verdict, or None (no evidence).
    verdict: Optional[Callable[..., Any]] = None
    # A runtime-only rule's check: `runtime_check(ctx)` returns the findings a traced run shows.
    runtime_check: Optional[Callable[..., Any]] = None
    # Why a static rule has no verdict (its finding stays `unverified`, saying so).
    no_runtime_check: str = ""
    # Its bug typically makes torch raise at the reported line: the error confirms it.
    confirmed_by_crash: bool = False
    # Judged on an evaluation pass: the tracer waits for one (see `EVAL_WAIT_STEPS`).
    needs_eval_pass: bool = False

    @property
    def slug(self) -> str:
        return f"{self.code}-{self.name}"

    def option_defaults(self) -> Dict[str, Any]:
        return {f.name: f.default for f in dataclasses.fields(self.options)}
