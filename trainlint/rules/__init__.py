"""The rules: one file per rule, `rules/<family>/tlNNN_<name>.py`, each ending with a `RULE`
(see `base.py`). Families: `tool` (TL0xx), `loop` (TL1xx), `loss` (TL2xx), `data` (TL3xx),
`model` (TL4xx), `hparams` (TL5xx), `graph` (TL6xx) and `runtime` (TL9xx, tracer only).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Dict, Iterator, List, Tuple

from trainlint.rules.base import Finding, Rule, RuleContext, RuleFunc

__all__ = ["Finding", "Rule", "RuleContext", "RuleFunc", "discover_rules", "load_rules"]

FAMILIES = ("tool", "loop", "loss", "data", "model", "hparams", "graph", "runtime")
_RULE_FILE = re.compile(r"^tl\d{3}_\w+$")


def _rule_files() -> Iterator[Tuple[str, str]]:
    """(family, file stem) of every rule file, family by family."""
    for family in FAMILIES:
        package = importlib.import_module(f"trainlint.rules.{family}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if _RULE_FILE.match(info.name):
                yield family, info.name


def rule_module_names() -> List[str]:
    """The import names of every rule file."""
    return [f"trainlint.rules.{family}.{stem}" for family, stem in _rule_files()]


def discover_rules() -> List[Rule]:
    """Every rule, in code order: the `RULE` of each rule file."""
    found: List[Rule] = []
    for family, stem in _rule_files():
        module = importlib.import_module(f"trainlint.rules.{family}.{stem}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise TypeError(f"{module.__name__} defines no `RULE = Rule(...)`")
        found.append(rule)
    return sorted(found, key=lambda r: r.code)


def load_rules() -> Dict[str, RuleFunc]:
    """The check of every static rule, by code."""
    from trainlint.registry import all_rules

    return {r.code: r.check for r in all_rules() if r.check is not None}
