"""Thresholds of the tracer's verdicts, settable in `[tool.trainlint.<CODE>]` tables.

Each rule file declares its thresholds (`Options`), and its page gives the source of each
default. This module must not import torch:
configuration validation imports it in the base install.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from trainlint import options

# Rules whose verdict reuses another rule's thresholds (the static rule and the runtime rule
# measure the same thing).
SHARED = {"TL301": "TL906", "TL303": "TL901", "TL402": "TL902", "TL501": "TL909"}


def rule_options(code: str, settings: Optional[Any] = None) -> Dict[str, Any]:
    """The thresholds of `code`: the user's config when settings are given, else the defaults."""
    code = SHARED.get(code, code)
    if settings is not None and hasattr(settings, "rule_options"):
        try:
            return dict(settings.rule_options(code))
        except (KeyError, ValueError, TypeError):
            pass
    return options.defaults_for(code)


def all_options(settings: Optional[Any] = None) -> Dict[str, Dict[str, Any]]:
    return {code: rule_options(code, settings) for code in options.all_defaults()}
