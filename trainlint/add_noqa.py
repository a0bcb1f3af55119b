"""`check --add-noqa`: write a `# noqa: CODE` comment for every finding, as ruff's `--add-noqa`.

The comment goes where the suppression parser (`suppressions.py`) looks: on the reported line,
or else on the first or last line of the reported statement, and only on a line that can end
with a comment (not one that ends inside a multi-line string or with a backslash). A line that
has a noqa comment gets the missing codes added to it. A notebook gets the comment in the
cell's source; the rest of its JSON is left byte for byte. Every file is checked before it is
written: it parses as it did, the parser reads the new comments, and nothing else changed;
then it is replaced atomically, unless it changed on disk meanwhile.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from trainlint import registry, suppressions
from trainlint.diagnostics import Diagnostic
from trainlint.fixes.apply import FileState, check_parses, write_atomic
from trainlint.fixes.core import EditError
from trainlint.source import SourceError, decode, dedent_excerpt, read_bytes

# Lines as the tokenizer counts them (`str.splitlines` also splits on form feeds and the like).
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_CODE = re.compile(r"[A-Z]+[0-9]+")


@dataclass
class NoqaReport:
    added: int = 0  # codes written into noqa comments
    files: int = 0  # files rewritten
    left: List[Tuple[Diagnostic, str]] = field(default_factory=list)  # findings left as they are, and why
    warnings: List[str] = field(default_factory=list)  # files not written


class _Refused(Exception):
    """This file (or this finding) gets no comment; the message says why."""


@dataclass
class _Program:
    """A file as the checker reads it: a script's text, or a notebook's code cells joined."""

    text: str
    lines: List[str]  # without their line ends
    program_line: Callable[[Diagnostic, int], Optional[int]]  # (finding, line in its cell or file) ->
    cell_of: Optional[Callable[[int], Tuple[Optional[int], int]]] = None  # program line -> (cell, line)


def add_noqa(diagnostics: Sequence[Diagnostic], checked: Sequence[str]) -> NoqaReport:
    """Add noqa comments for `diagnostics` to the files among `checked` (a finding located in a
    context file, one that was not asked for, is left: trainlint never edits those)."""
    report = NoqaReport()
    asked = set(checked)
    by_path: Dict[str, List[Diagnostic]] = {}
    for d in diagnostics:
        if registry.RULES[d.code].kind == "tool":
            # Hiding a syntax or internal error hides a problem, not a false alarm.
            report.left.append((d, f"{d.code} is not suppressed by a comment"))
        elif d.path not in asked:
            report.left.append((d, "the file was not among those checked"))
        else:
            by_path.setdefault(d.path, []).append(d)
    for path in sorted(by_path):
        try:
            _add_to_file(path, by_path[path], report)
        except _Refused as exc:
            already = {id(d) for d, _ in report.left}
            report.left.extend((d, str(exc)) for d in by_path[path] if id(d) not in already)
    return report


def _add_to_file(path: str, diagnostics: List[Diagnostic], report: NoqaReport) -> None:
    try:
        data = read_bytes(path)
        st = os.stat(path)
    except (OSError, SourceError) as exc:
        raise _Refused(f"cannot read the file: {getattr(exc, 'message', None) or exc}") from None
    notebook = path.endswith(".ipynb")
    program = _notebook_program(data) if notebook else _script_program(data)
    places = _Places(program)
    wanted: Dict[int, Set[str]] = {}
    targets: List[Tuple[Diagnostic, int]] = []
    for d in diagnostics:
        line = places.target(d, program)
        if line is None:
            report.left.append((d, "no line of its statement can end with a comment"))
            continue
        wanted.setdefault(line, set()).add(d.code)
        targets.append((d, line))
    inserts: Dict[int, Tuple[int, str]] = {}
    for line, codes in wanted.items():
        insert = suppressions.noqa_insertion(program.lines[line - 1], places.comment_at.get(line), codes)
        if insert is not None:
            inserts[line] = insert
    if not inserts:
        return
    new_program = _insert_lines(program.text, inserts)
    _check_read_back(new_program, targets)
    try:
        check_parses(program.text, new_program)
    except EditError as exc:
        raise _Refused(exc.message) from None
    new_data = _notebook_with(data, program, inserts, new_program) if notebook else _script_with(data, new_program)
    problem = write_atomic(FileState(path, data, new_data, st.st_mtime_ns, st.st_size))
    if problem is not None:
        report.warnings.append(problem)
        report.left.extend((d, "the file was not written") for d, _ in targets)
        return
    report.files += 1
    report.added += sum(len(_CODE.findall(content)) for _, content in inserts.values())


# ---------------------------------------------------------------------------- reading


def _script_program(data: bytes) -> _Program:
    try:
        text = decode(data).text
    except SourceError as exc:
        raise _Refused(exc.message) from None
    return _Program(text, _split(text), lambda d, line: line)


def _notebook_program(data: bytes) -> _Program:
    from trainlint.notebook import notebook_source

    try:
        text, line_map = notebook_source(data)
    except SourceError as exc:
        raise _Refused(exc.message) from None
    where: Dict[Tuple[Optional[int], int], int] = {}
    lines = _split(text)
    for n in range(1, len(lines) + 1):
        where.setdefault(line_map(n), n)
    return _Program(text, lines, lambda d, line: where.get((d.cell, line)), line_map)


def _split(text: str) -> List[str]:
    return [line.rstrip("\r\n") for line in _LINES.findall(text)]


class _Places:
    """Which lines of a program can end with a comment, where their comments start, and the
    lines of its statements."""

    def __init__(self, program: _Program) -> None:
        region = None
        if program.cell_of is not None:
            cell_of = program.cell_of
            region = lambda line: cell_of(line)[0]  # noqa: E731
        # An indented excerpt is read without its indentation, as the checker reads it.
        dedent = dedent_excerpt(program.text, region)
        text = dedent.text if dedent is not None else program.text
        removed = dedent.removed if dedent is not None else {}
        self.open: Set[int] = set()
        self.comment_at: Dict[int, int] = {}
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type in (tokenize.NEWLINE, tokenize.NL):
                    self.open.add(tok.start[0])
                elif tok.type == tokenize.COMMENT:
                    self.open.add(tok.start[0])
                    self.comment_at[tok.start[0]] = tok.start[1] + removed.get(tok.start[0], 0)
        except (tokenize.TokenError, SyntaxError) as exc:
            raise _Refused(f"the file does not tokenize ({exc})") from None
        # (size, first line, last line, compound), the innermost first.
        self.statements: List[Tuple[int, int, int, bool]] = []
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # the reported line alone is tried
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and node.end_lineno is not None:
                compound = any(isinstance(getattr(node, f, None), list) for f in ("body", "cases"))
                self.statements.append((node.end_lineno - node.lineno, node.lineno, node.end_lineno, compound))
        self.statements.sort()

    def target(self, d: Diagnostic, program: _Program) -> Optional[int]:
        line = program.program_line(d, d.span.line)
        if line is None or not 1 <= line <= len(program.lines):
            return None
        end = program.program_line(d, d.span.end_line) or line
        candidates = [line]
        for _, first, last, compound in self.statements:
            if first <= line and last >= end:
                # The innermost statement holding the finding, whose first line the engine also
                # reads (and the last, unless the finding is a compound statement's own).
                candidates += [first] if compound else [first, last]
                break
        return next((c for c in candidates if c in self.open and program.lines[c - 1].strip()), None)


# ---------------------------------------------------------------------------- writing


def _insert_lines(text: str, inserts: Dict[int, Tuple[int, str]]) -> str:
    lines = _LINES.findall(text)
    for line, (index, content) in inserts.items():
        old = lines[line - 1]
        lines[line - 1] = old[:index] + content + old[index:]
    return "".join(lines)


def _check_read_back(new_program: str, targets: List[Tuple[Diagnostic, int]]) -> None:
    """The suppression parser must read each new comment where it was put."""
    parsed = suppressions.parse(new_program)
    for d, line in targets:
        codes = parsed.lines.get(line, set())
        if codes is not None and d.code not in codes:
            raise _Refused(f"line {line}: the noqa comment would not be read there")


def _script_with(data: bytes, new_text: str) -> bytes:
    source = decode(data)
    bom = b"\xef\xbb\xbf" if source.bom else b""
    try:
        if bom + source.text.encode(source.encoding) != data:
            raise _Refused(f"the file's bytes do not round-trip through {source.encoding}; not rewritten")
        return bom + new_text.encode(source.encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise _Refused(f"cannot write the file in {source.encoding}: {exc}") from None


def _notebook_with(data: bytes, program: _Program, inserts: Dict[int, Tuple[int, str]], new_program: str) -> bytes:
    """The notebook's JSON text with each insertion made inside its cell's source string, so
    outputs, metadata and the layout stay as they were."""
    from trainlint.notebook import cell_lines, notebook_source, raw_locator

    assert program.cell_of is not None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused("the notebook is not UTF-8") from None
    bom = "\ufeff" if raw.startswith("\ufeff") else ""
    raw = raw[len(bom) :]  # (the locator's positions are in the text after the mark)
    cells = cell_lines(data)
    locate = raw_locator(data)
    row_starts = [0] + [m.end() for m in re.finditer("\n", raw)]
    offsets: List[Tuple[int, str]] = []
    for line, (index, content) in inserts.items():
        cell, in_cell = program.cell_of(line)
        written = cells.get(cell or 0, [])
        if cell is None or not 1 <= in_cell <= len(written) or written[in_cell - 1] != program.lines[line - 1]:
            raise _Refused(f"cell {cell}, line {in_cell} is IPython syntax; it is not rewritten")
        offset = _raw_offset(raw, row_starts, locate, cell, in_cell, index, len(written[in_cell - 1]))
        if offset is None:
            raise _Refused("the notebook's JSON layout is not understood; not rewritten")
        offsets.append((offset, content))
    for offset, content in sorted(offsets, reverse=True):
        raw = raw[:offset] + content + raw[offset:]
    new_data = (bom + raw).encode("utf-8")
    try:
        ok = notebook_source(new_data)[0] == new_program
    except SourceError:
        ok = False
    if not ok:
        raise _Refused("the notebook's JSON layout is not understood; not rewritten")
    return new_data


def _raw_offset(
    raw: str,
    row_starts: List[int],
    locate: Callable[[int, int, int], Optional[Tuple[int, int]]],
    cell: int,
    line: int,
    index: int,
    length: int,
) -> Optional[int]:
    """Offset in the notebook's text of the character at `index` of the cell's line (its end
    when `index` is the line's length)."""
    if index < length or locate(cell, line, index + 1) is not None:
        at = locate(cell, line, index + 1)
        return None if at is None else row_starts[at[0] - 1] + at[1] - 1
    # The cell's last line has no line end: the insertion goes after its last character.
    at = locate(cell, line, length)
    if at is None:
        return None
    offset = row_starts[at[0] - 1] + at[1] - 1
    width = 1 if raw[offset] != "\\" else (6 if raw[offset + 1 : offset + 2] == "u" else 2)
    return offset + width
