"""Rule registry: each rule is a short function over a module's facts.

    @rule("TL101")
    def missing_zero_grad(ctx: RuleContext) -> Iterator[Finding]: ...

Rule modules are imported by `load_rules()` so that registering happens in one place.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import libcst as cst

from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.loops import LoopAnalyzer
from trainlint.analysis.project import Project
from trainlint.analysis.symbols import Resolver
from trainlint.diagnostics import Fix, Severity


@dataclass
class Finding:
    """A rule's report, still in terms of syntax nodes; the engine turns it into a Diagnostic."""

    code: str
    module: ModuleFacts
    node: cst.CSTNode
    message: str
    related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = field(default_factory=list)
    severity: Optional[Severity] = None  # None: the rule's default
    fix: Optional[Fix] = None
    # Builds the fix lazily, given a position lookup (only when fixes are asked for).
    fix_builder: Optional[Callable[..., Optional[Fix]]] = None


@dataclass
class RuleContext:
    module: ModuleFacts
    project: Project
    resolver: Resolver
    loops: LoopAnalyzer
    options: Dict[str, Any]


RuleFunc = Callable[[RuleContext], Iterable[Finding]]
REGISTRY: Dict[str, RuleFunc] = {}

_RULE_MODULES = ("loop", "loss", "data", "model", "hparams", "graph")


def rule(code: str) -> Callable[[RuleFunc], RuleFunc]:
    def deco(fn: RuleFunc) -> RuleFunc:
        REGISTRY[code] = fn
        return fn

    return deco


def load_rules() -> Dict[str, RuleFunc]:
    for name in _RULE_MODULES:
        try:
            importlib.import_module(f"trainlint.rules.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"trainlint.rules.{name}":
                raise
    return REGISTRY
