"""What identifies a finding across edits: its rule, its file, the text of its line and the
occurrence of that text.

The line number is left out on purpose, so a finding keeps its identity when code is inserted
or removed above it. SARIF's `partialFingerprints` hash this identity; the baseline file
(`baseline.py`) stores it as it is, readable.
"""

from __future__ import annotations

import hashlib
import os
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

from trainlint.diagnostics import Diagnostic
from trainlint.report.printable import raw_bytes


class Identity(NamedTuple):
    code: str
    path: str  # forward slashes
    text: str  # the reported line, whitespace runs collapsed to one space, stripped
    occurrence: int  # how many findings with the same code, path and text come before it


class LineTexts:
    """The reported lines' text, read once per file; a file that cannot be read gives ''."""

    def __init__(self) -> None:
        # path -> {cell: lines}; plain files are stored as cell 0.
        self._files: Dict[str, Dict[int, List[str]]] = {}

    def text(self, d: Diagnostic) -> str:
        if d.path not in self._files:
            self._files[d.path] = _read_lines(d.path)
        lines = self._files[d.path].get(d.cell or 0, [])
        line = d.span.line
        return lines[line - 1] if 1 <= line <= len(lines) else ""


def _read_lines(path: str) -> Dict[int, List[str]]:
    from trainlint.source import SourceError, decode, read_bytes

    try:
        data = read_bytes(path)  # never blocks on a FIFO; refuses what the checker refused
    except (OSError, SourceError):
        return {}
    try:
        if path.endswith(".ipynb"):
            from trainlint.notebook import cell_lines

            return cell_lines(data)
        return {0: decode(data).text.splitlines()}
    except (SourceError, ImportError):
        return {}


def normalise(text: str) -> str:
    return " ".join(text.split())


def as_given(d: Diagnostic) -> str:
    return d.path.replace(os.sep, "/")


def identities(
    diagnostics: List[Diagnostic], path_key: Callable[[Diagnostic], str] = as_given, lines: Optional[LineTexts] = None
) -> List[Identity]:
    """The identity of each finding, in order. `diagnostics` must be every finding of the
    files concerned, sorted by position, for the occurrences to be stable."""
    lines = lines or LineTexts()
    seen: Dict[Tuple[str, str, str], int] = {}
    out: List[Identity] = []
    for d in diagnostics:
        key = (d.code, path_key(d), normalise(lines.text(d)))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        out.append(Identity(*key, occurrence))
    return out


def digest(identity: Identity) -> str:
    """A short hash of the identity (SARIF's partial fingerprint)."""
    # A file name's undecodable bytes are hashed as they are on disk.
    parts = [identity.code, identity.path, identity.text, str(identity.occurrence)]
    return hashlib.sha256(raw_bytes("\0".join(parts))).hexdigest()[:32]
