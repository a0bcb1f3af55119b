"""Thresholds of the tracer's verdicts, settable in `[tool.trainlint.<CODE>]` tables.

Each rule page in rules/ gives the source of its default. This module must not import torch:
configuration validation imports it in the base install.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from trainlint import options

options.declare("TL103", max_backward_without_step=32)
options.declare("TL106", tolerance=1e-3)
options.declare("TL201", row_sum_tolerance=1e-3)
options.declare("TL204", logsumexp_tolerance=0.1)
options.declare("TL205", max_distinct=20)
options.declare("TL902", ratio=100.0, min_norm=1e-7)
options.declare("TL903", max_total_norm=1000.0, ratio=100.0)
options.declare("TL904", max_dead_fraction=0.5, inactivity=0.01, min_samples=16)
options.declare("TL905", epsilon=0.01, max_saturated_fraction=0.5)
options.declare("TL906", max_abs_mean=3.0, max_std=5.0, max_abs_value=10.0)
options.declare("TL909", min_ratio=1e-5, max_ratio=0.1)
options.declare("TL910", max_ratio=2.0, min_ratio=0.0)
options.declare("TL912", min_relative_decrease=0.1)
options.declare("TL913", atol=1e-5, rtol=1e-3, eps=1e-6, max_rows=4)

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
    return {code: rule_options(code, settings) for code in list(options.RULE_OPTIONS)}
