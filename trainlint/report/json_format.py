"""`--output-format json`: the contract external tools parse (see README)."""

from __future__ import annotations

from typing import Any, Dict

from trainlint import __version__
from trainlint.diagnostics import CheckResult, count_errors
from trainlint.report.printable import dumps


def as_dict(result: CheckResult) -> Dict[str, Any]:
    return {
        "version": __version__,
        "diagnostics": [d.to_json() for d in result.diagnostics],
        "summary": {
            "files": result.files,
            "diagnostics": len(result.diagnostics),
            "errors": count_errors(result.diagnostics),
            "suppressed": len(result.suppressed),
            "baselined": len(result.baselined),
        },
    }


def render(result: CheckResult) -> str:
    return dumps(as_dict(result)) + "\n"
