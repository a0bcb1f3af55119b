"""Plain data carried from the rules to the reporters: what was found, where, and how to fix it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Status(str, enum.Enum):
    """How sure we are: static findings are suspicions until the tracer rules on them."""

    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Span:
    """A 1-based, end-inclusive-line / end-exclusive-column region of a file."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Related:
    path: str
    line: int
    column: int
    message: str
    # Notebook cell (1-based) when the file is a notebook; the line is then within the cell.
    cell: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"path": self.path, "line": self.line, "column": self.column, "message": self.message}
        if self.cell is not None:
            out["cell"] = self.cell
        return out


@dataclass
class Edit:
    """Replace the text between two 1-based positions with `content`."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str
    # Notebook cell (1-based) when the file is a notebook; the positions are then within the cell.
    cell: Optional[int] = None
    # The file the edit applies to; None for the finding's own file. A fix may edit several
    # files (a softmax dropped in `models.py` for a loss in `train.py`); reported findings
    # carry it on every edit.
    path: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "content": self.content,
        }
        if self.cell is not None:
            out["cell"] = self.cell
        return out


@dataclass
class Fix:
    applicability: str  # "safe" | "unsafe"
    description: str
    edits: List[Edit] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        return {
            "applicability": self.applicability,
            "description": self.description,
            "edits": [e.to_json() for e in self.edits],
        }

    def paths(self, own: str) -> List[str]:
        """The files the fix edits (`own`: the finding's file, for edits that name none)."""
        out: List[str] = []
        for e in self.edits:
            if (e.path or own) not in out:
                out.append(e.path or own)
        return out


@dataclass
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    status: Status = Status.SUSPECTED
    related: List[Related] = field(default_factory=list)
    fix: Optional[Fix] = None
    evidence: Optional[Dict[str, Any]] = None
    # Notebook cell (1-based) when the file is a notebook; the span is then within the cell.
    cell: Optional[int] = None
    # The finding rests on an assumption (a fragment's `nn` taken for `torch.nn`): its
    # severity is one step lower and its message says what was assumed.
    guess: bool = False
    # Program lines (before notebook mapping) of the report and of its statement, for noqa comments.
    program_line: Optional[int] = field(default=None, repr=False, compare=False)
    statement_lines: Optional[Tuple[int, int]] = field(default=None, repr=False, compare=False)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def sort_key(self) -> Tuple[str, int, int, int, str]:
        return (self.path, self.cell or 0, self.span.line, self.span.column, self.code)

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "status": self.status.value,
            "related": [r.to_json() for r in self.related],
            "fix": self.fix.to_json() if self.fix else None,
            "evidence": self.evidence,
        }
        if self.cell is not None:
            out["cell"] = self.cell
        if self.guess:
            out["guess"] = True
        return out


def diagnostic_from_json(data: Dict[str, Any]) -> Diagnostic:
    """The inverse of `Diagnostic.to_json` (used by the cache and by worker processes)."""
    fix = None
    if data.get("fix"):
        f = data["fix"]
        fix = Fix(f["applicability"], f["description"], [Edit(**e) for e in f.get("edits", [])])
    return Diagnostic(
        code=data["code"],
        name=data["name"],
        severity=Severity(data["severity"]),
        message=data["message"],
        path=data["path"],
        span=Span(data["line"], data["column"], data["end_line"], data["end_column"]),
        status=Status(data.get("status", "suspected")),
        related=[
            Related(r["path"], r["line"], r["column"], r["message"], r.get("cell")) for r in data.get("related", [])
        ],
        fix=fix,
        evidence=data.get("evidence"),
        cell=data.get("cell"),
        guess=bool(data.get("guess", False)),
    )


@dataclass
class CheckResult:
    """What a check found: the findings reported, those suppressed by `# noqa`, those recorded
    in the baseline file (not reported), how many files were checked and how many rule
    failures happened."""

    diagnostics: List[Diagnostic] = field(default_factory=list)
    suppressed: List[Diagnostic] = field(default_factory=list)
    baselined: List[Diagnostic] = field(default_factory=list)
    files: int = 0
    internal_errors: int = 0
    # The files checked, where the caller knows them (`check_paths`): what `--fix` may edit.
    checked: Optional[List[str]] = None


def count_errors(diags: Iterable[Diagnostic]) -> int:
    return sum(1 for d in diags if d.severity == Severity.ERROR)
