"""Jupyter notebooks as one Python program, with a map from program lines back to cells.

The code cells are joined in order, so a model built in one cell and trained in another is
analysed like a script. IPython syntax (magics, shell escapes, `?` help) is not Python; each
such line is replaced by a line of the same count and indentation, so every other line keeps its
position and the map stays one line to one line. Markdown and raw cells contribute no lines.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from trainlint.source import SourceError

LineMap = Callable[[int], Tuple[Optional[int], int]]

# Cell magics whose body is ordinary Python run in the user's namespace (a training loop under
# `%%time` is common); the body is linted, only the magic line is blanked. Every other cell
# magic (`%%bash`, `%%writefile`, `%%html`, ...) holds something else, so the whole cell goes.
_PYTHON_BODY_CELL_MAGICS = frozenset({"time", "capture"})

# `files = !ls`, `out = %timeit -o f()`: an assignment whose right-hand side is IPython syntax.
_MAGIC_ASSIGN = re.compile(r"[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")
# Automagic: `pip install x` works in a notebook without the `%`, and is never valid Python.
_AUTOMAGIC = re.compile(r"(pip|conda|mamba|micromamba)\s+(install|uninstall|list|show|freeze)\b")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def notebook_source(data: bytes) -> Tuple[str, LineMap]:
    """The notebook's code cells as one program, and program line -> (cell, line in cell)."""
    nb = _load_json(data)
    cells = _cells_of(nb)
    if not _is_python(nb):
        return "", _make_map([], [])
    program: List[str] = []
    starts: List[int] = []  # first program line of each code cell that has lines
    cell_ids: List[int] = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise SourceError(f"cell {index} is not a JSON object; this is not a valid notebook")
        if cell.get("cell_type") != "code":
            continue
        lines = _neutralise(_cell_lines(cell, index))
        if not lines:
            continue
        starts.append(len(program) + 1)
        cell_ids.append(index)
        program.extend(lines)
    text = "".join(line + "\n" for line in program)
    return text, _make_map(starts, cell_ids)


def cell_lines(data: bytes) -> Dict[int, List[str]]:
    """Each code cell's lines as written (IPython syntax included), by 1-based cell index."""
    out: Dict[int, List[str]] = {}
    for index, cell in enumerate(_cells_of(_load_json(data)), start=1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            out[index] = _cell_lines(cell, index)
    return out


# ---------------------------------------------------------------------------- reading


def _load_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise SourceError(f"invalid notebook JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(f"notebook is not valid UTF-8 JSON: {exc.reason}", line, 1) from None
    except RecursionError:
        raise SourceError("notebook JSON is nested too deeply to read") from None


def _cells_of(nb: Any) -> Sequence[Any]:
    if not isinstance(nb, dict):
        raise SourceError("not a Jupyter notebook: the top-level JSON value is not an object")
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list):
        # nbformat 3 kept the cells in worksheets; code cells used `input` instead of `source`.
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", [])]
    if not isinstance(cells, list):
        raise SourceError("not a Jupyter notebook: no `cells` list")
    return cells


def _is_python(nb: Any) -> bool:
    """False only when the metadata names another kernel language (an R or Julia notebook)."""
    meta = nb.get("metadata")
    if not isinstance(meta, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        table = meta.get(key)
        if isinstance(table, dict) and isinstance(table.get(field), str):
            return table[field].lower() in ("python", "python3", "ipython", "ipython3")
    return True


def _cell_lines(cell: dict, index: int) -> List[str]:
    source = cell.get("source", cell.get("input", ""))
    if isinstance(source, list):
        if not all(isinstance(part, str) for part in source):
            raise SourceError(f"cell {index}: `source` must be a string or a list of strings")
        source = "".join(source)
    elif not isinstance(source, str):
        raise SourceError(f"cell {index}: `source` must be a string or a list of strings")
    if "\x00" in source:
        raise SourceError(f"cell {index} contains a NUL character")
    lines = _NEWLINE.split(source)
    if lines and lines[-1] == "":
        lines.pop()  # a trailing newline ends the last line; it does not start another
    return lines


# ---------------------------------------------------------------------------- IPython syntax


def _neutralise(lines: List[str]) -> List[str]:
    out = list(lines)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return out
    head = lines[first].lstrip()
    if head.startswith("%%"):
        name = head[2:].split(None, 1)[0] if head[2:].strip() else ""
        if name not in _PYTHON_BODY_CELL_MAGICS:
            return ["#" for _ in lines]
        out[first] = "#"
        return _neutralise_lines(out, start=first + 1)
    return _neutralise_lines(out, start=0)


def _neutralise_lines(lines: List[str], start: int) -> List[str]:
    scanner = _Scanner()
    i = start
    while i < len(lines):
        line = lines[i]
        if scanner.at_statement_start and _is_ipython_line(line, scanner):
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = indent + "pass"
            # An escaped command continues over lines ending in a backslash.
            while line.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                line = lines[i]
                lines[i] = indent + "pass"
            i += 1
            continue
        scanner.feed(line)
        i += 1
    return lines


def _is_ipython_line(line: str, scanner: _Scanner) -> bool:
    stripped = line.lstrip()
    if not stripped or stripped.startswith("#"):
        return False
    if stripped[0] in "%!?" and not stripped.startswith("!="):
        return True
    if _MAGIC_ASSIGN.match(stripped) or _AUTOMAGIC.match(stripped):
        return True
    # `obj?` / `obj??`: Python code never ends in `?` outside a string or comment.
    return scanner.last_code_char(line) == "?"


class _Scanner:
    """Just enough of Python's tokenizer to know whether a line starts a new statement.

    A `%` or `!` at the start of a line inside brackets, a string or after a backslash is
    Python (`x = (a\\n % b)`), not IPython syntax.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.quote: Optional[str] = None  # the open triple quote, if any
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def feed(self, line: str) -> None:
        self._walk(line)

    def last_code_char(self, line: str) -> str:
        """The line's last character outside strings and comments; the state is kept."""
        saved = (self.depth, self.quote, self.continued)
        last = self._walk(line)
        self.depth, self.quote, self.continued = saved
        return last

    def _walk(self, line: str) -> str:
        """Advance over one line; return its last character outside strings and comments."""
        i, n, last = 0, len(line), ""
        self.continued = False
        while i < n:
            if self.quote is not None:
                close = _find_close(line, i, self.quote)
                if close < 0:
                    return ""
                i, last = close, self.quote[-1]
                self.quote = None
                continue
            ch = line[i]
            if ch == "#":
                break
            if ch in "'\"":
                q = line[i : i + 3] if line[i : i + 3] in ("'''", '"""') else ch
                close = _find_close(line, i + len(q), q)
                if close < 0:
                    # An open triple quote spans lines; an unclosed one-line string is an error.
                    self.quote = q if len(q) == 3 else None
                    return ""
                i, last = close, ch
                continue
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            elif ch == "\\" and i == n - 1:
                self.continued = True
            if not ch.isspace():
                last = ch
            i += 1
        return last


def _find_close(line: str, i: int, quote: str) -> int:
    """Index just past `quote` closing a string from `i`, or -1 if the line ends first."""
    n = len(line)
    while i < n:
        if line[i] == "\\":
            i += 2
            continue
        if line.startswith(quote, i):
            return i + len(quote)
        i += 1
    return -1


# ---------------------------------------------------------------------------- line map


def _make_map(starts: List[int], cell_ids: List[int]) -> LineMap:
    def line_map(line: int) -> Tuple[Optional[int], int]:
        if not starts:
            return None, line
        k = max(0, bisect.bisect_right(starts, max(line, 1)) - 1)
        return cell_ids[k], max(line, 1) - starts[k] + 1

    return line_map


# ---------------------------------------------------------------------------- raw positions
# Viewers that open a notebook as text (SARIF viewers, GitHub annotations) need positions in
# the `.ipynb` file's JSON text. Each cell's `source` is a JSON string or a list of them; a
# position in a cell is found by walking the raw string tokens and their escapes.

RawLocator = Callable[[int, int, int], Optional[Tuple[int, int]]]


def raw_locator(data: bytes) -> RawLocator:
    """(cell, line in cell, column) -> (line, column) in the notebook's JSON text, all 1-based;
    None where the position cannot be found (an unusual layout, a line past the cell's end)."""
    try:
        text = data.decode("utf-8-sig")
        sources = _raw_sources(text)
    except (UnicodeDecodeError, ValueError, IndexError):
        sources = {}
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)] if sources else [0]

    def locate(cell: int, line: int, column: int) -> Optional[Tuple[int, int]]:
        offset = _raw_offset(text, sources.get(cell, []), line, column)
        if offset is None:
            return None
        row = bisect.bisect_right(line_starts, offset) - 1
        return row + 1, offset - line_starts[row] + 1

    return locate


def _raw_sources(text: str) -> Dict[int, List[int]]:
    """Cell index (1-based) -> raw offsets of the opening quotes of its `source` strings."""
    out: Dict[int, List[int]] = {}
    scan = _JsonScan(text)
    scan.ws()
    for key in scan.object_keys():
        if key != "cells":
            scan.skip_value()
            continue
        for index in scan.array_items(start=1):
            found: List[int] = []
            if scan.peek() != "{":
                scan.skip_value()
                continue
            for cell_key in scan.object_keys():
                if cell_key != "source":
                    scan.skip_value()
                elif scan.peek() == '"':
                    found.append(scan.pos)
                    scan.skip_value()
                else:
                    for _ in scan.array_items(start=0):
                        if scan.peek() == '"':
                            found.append(scan.pos)
                        scan.skip_value()
            out[index] = found
    return out


def _raw_offset(text: str, strings: List[int], line: int, column: int) -> Optional[int]:
    """Offset in `text` of the character at (line, column) of the cell whose source strings
    open at `strings`."""
    current_line, current_column = 1, 1
    for start in strings:
        i = start + 1
        while i < len(text) and text[i] != '"':
            if (current_line, current_column) == (line, column):
                return i
            if text[i] == "\\":
                escape = text[i + 1]
                width = 6 if escape == "u" else 2
                char = "\n" if escape == "n" else ("\r" if escape == "r" else "x")
            else:
                width, char = 1, text[i]
            if char == "\n":
                if current_line == line:  # the column is past the line's end: its end
                    return i
                current_line, current_column = current_line + 1, 1
            else:
                current_column += 1
            i += width
    return None


class _JsonScan:
    """A cursor over JSON text that walks objects and arrays and skips values."""

    _SCALAR = re.compile(r"-?\d[\d.eE+-]*|true|false|null")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.ws()
        return self.text[self.pos]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def string(self) -> str:
        self.ws()
        value, self.pos = json.decoder.scanstring(self.text, self.pos + 1)  # type: ignore[attr-defined]
        return str(value)

    def object_keys(self) -> "Any":
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key = self.string()
            self.expect(":")
            self.ws()
            yield key
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("}")
            return

    def array_items(self, start: int) -> "Any":
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        index = start
        while True:
            self.ws()
            yield index
            index += 1
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("]")
            return

    def skip_value(self) -> None:
        char = self.peek()
        if char == '"':
            self.string()
        elif char == "{":
            for _ in self.object_keys():
                self.skip_value()
        elif char == "[":
            for _ in self.array_items(0):
                self.skip_value()
        else:
            m = self._SCALAR.match(self.text, self.pos)
            if m is None:
                raise ValueError(f"unexpected {char!r} at {self.pos}")
            self.pos = m.end()
