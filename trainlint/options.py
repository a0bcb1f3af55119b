"""Per-rule options (thresholds) that `[tool.trainlint.<CODE>]` tables may set.

Each rule declares its options as a dataclass in its rule file (`Rule.options`); config
validation rejects unknown keys and wrong types, naming the file.
"""

from __future__ import annotations

from typing import Any, Dict


def defaults_for(code: str) -> Dict[str, Any]:
    """Option name -> default of `code` (the default's type is the accepted type; int is
    accepted where a float is expected); empty for an unknown code."""
    from trainlint import registry

    rule = registry.RULES.get(code)
    return rule.option_defaults() if rule is not None else {}


def all_defaults() -> Dict[str, Dict[str, Any]]:
    """The defaults of every rule that has options, by code."""
    from trainlint import registry

    return {r.code: r.option_defaults() for r in registry.all_rules() if r.option_defaults()}
