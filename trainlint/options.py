"""Per-rule options (thresholds) that `[tool.trainlint.<CODE>]` tables may set.

Each rule that has thresholds declares them here with their defaults; config validation
rejects unknown keys and wrong types, naming the file.
"""

from __future__ import annotations

from typing import Any, Dict

# code -> option name -> default value (the default's type is the accepted type; int is
# accepted where a float is expected).
RULE_OPTIONS: Dict[str, Dict[str, Any]] = {}


def declare(code: str, **defaults: Any) -> None:
    RULE_OPTIONS.setdefault(code, {}).update(defaults)


def defaults_for(code: str) -> Dict[str, Any]:
    return dict(RULE_OPTIONS.get(code, {}))
