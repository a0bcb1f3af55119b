"""`--output-format github`: GitHub Actions workflow commands, one annotation per finding.

    ::error file=src/train.py,line=42,col=9,endLine=42,endColumn=24,title=trainlint (TL101)::message

GitHub turns each line into an annotation on the pull request. Notebook findings carry no
line: a line within a cell would point at the wrong line of the notebook's JSON, so the cell
and line go into the message and the annotation sits on the file.
"""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import CheckResult, Diagnostic, Severity
from trainlint.report.positions import in_notebook_text
from trainlint.report.printable import printable
from trainlint.report.text import place

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape the message part, which runs to the end of the line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a `key=value` property, where `:` and `,` are separators too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_diagnostic(d: Diagnostic) -> str:
    props = [("file", d.path)]
    message = f"{d.code} [{d.name}] {d.message}"
    if d.cell is None:
        props += [
            ("line", str(d.span.line)),
            ("col", str(d.span.column)),
            ("endLine", str(d.span.end_line)),
            ("endColumn", str(d.span.end_column)),
        ]
    else:
        # The annotation goes on the cell's line in the `.ipynb` file's text.
        at = in_notebook_text(d.path, d.cell, d.span.line, d.span.column)
        if at is not None:
            props += [("line", str(at[0])), ("col", str(at[1]))]
        message = f"cell {d.cell}, line {d.span.line}, column {d.span.column}: {message}"
    props.append(("title", f"trainlint ({d.code})"))
    if d.status.value != "suspected":
        message += f" ({d.status.value})"
    for r in d.related:
        message += f"\n  {place(r.path, r.cell, r.line, r.column)}: {r.message}"
    head = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return printable(f"::{_COMMANDS.get(d.severity, 'error')} {head}::{escape_data(message)}")


def render(result: CheckResult) -> str:
    lines: List[str] = [format_diagnostic(d) for d in result.diagnostics]
    return "".join(line + "\n" for line in lines)
