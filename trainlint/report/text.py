"""`--output-format text`: `path:line:col: CODE [name] message`, related locations indented."""

from __future__ import annotations

import os
import sys
from typing import List, Optional, TextIO

from trainlint.diagnostics import CheckResult, Diagnostic, Severity
from trainlint.report.printable import printable

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def use_color(stream: Optional[TextIO] = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def location(d: Diagnostic) -> str:
    return place(d.path, d.cell, d.span.line, d.span.column)


def place(path: str, cell: Optional[int], line: int, column: int) -> str:
    """`train.py:12:5`, or `nb.ipynb:cell 3:2:5` in a notebook (the line within the cell)."""
    return f"{path}:cell {cell}:{line}:{column}" if cell is not None else f"{path}:{line}:{column}"


def _clean(text: str) -> str:
    # One diagnostic per line: user-controlled text must not break the layout; a file name's
    # undecodable bytes are shown as `\xff`.
    return printable(text.replace("\r", "\\r").replace("\n", "\\n"))


def format_diagnostic(d: Diagnostic, color: bool = False) -> List[str]:
    code = f"{d.code} [{d.name}]"
    if color:
        code = f"{_COLORS.get(d.severity, '')}{_BOLD}{d.code}{_RESET} [{d.name}]"
        loc = f"{_BOLD}{_clean(location(d))}{_RESET}"
    else:
        loc = _clean(location(d))
    status = "" if d.status.value == "suspected" else f" ({d.status.value})"
    lines = [f"{loc}: {code}{status} {_clean(d.message)}"]
    for r in d.related:
        text = f"    {_clean(place(r.path, r.cell, r.line, r.column))}: {_clean(r.message)}"
        lines.append(f"{_DIM}{text}{_RESET}" if color else text)
    return lines


def render(result: CheckResult, color: Optional[bool] = None) -> str:
    color = use_color() if color is None else color
    out: List[str] = []
    for d in result.diagnostics:
        out.extend(format_diagnostic(d, color))
    return "\n".join(out) + ("\n" if out else "")


def summary_line(result: CheckResult) -> str:
    n = len(result.diagnostics)
    files = result.files
    parts = [f"Found {n} problem{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}"]
    if result.suppressed:
        parts.append(f"{len(result.suppressed)} suppressed")
    if result.baselined:
        k = len(result.baselined)
        parts.append(f"{k} finding{'s' if k != 1 else ''} in the baseline not shown")
    if n == 0:
        parts[0] = f"All checks passed ({files} file{'s' if files != 1 else ''})"
    return "; ".join(parts) + "."
