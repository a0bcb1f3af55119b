"""Reading a file's bytes into text the way Python itself would, without ever raising."""

from __future__ import annotations

import codecs
import errno
import io
import keyword
import os
import re
import stat
import tokenize
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple


@dataclass
class SourceText:
    text: str  # without the BOM
    encoding: str
    bom: bool
    newline: str


class SourceError(Exception):
    """The bytes cannot be turned into Python source text; carries a 1-based position."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# Larger files are not read at all (notebooks with embedded outputs are the big ones).
MAX_FILE_BYTES = 64 * 2**20


def lint_refusal(path: str) -> Optional[str]:
    """Why the file at `path` must not be read (a FIFO would block, a device never ends, a
    huge file would fill memory), or None. A path that cannot be examined gives None: reading
    it then reports the error."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return _refusal(st)


def _refusal(st: os.stat_result) -> Optional[str]:
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a pipe, socket or device); not read"
    if st.st_size > MAX_FILE_BYTES:
        return f"file too large to analyse ({st.st_size / 2**20:.0f} MiB, over {MAX_FILE_BYTES // 2**20} MiB); not read"
    return None


def read_bytes_or_none(path: str) -> Optional[bytes]:
    """The file's bytes; None when it cannot or must not be read (`read_bytes` says why)."""
    try:
        return read_bytes(path)
    except (OSError, SourceError):
        return None


def read_bytes(path: str) -> bytes:
    """The bytes of a regular file. Raises OSError as `open` does (IsADirectoryError for a
    folder), or SourceError for what `lint_refusal` refuses. The file is opened without
    blocking and checked after opening, so a FIFO swapped in after discovery cannot hang."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        problem = _refusal(st)
        if problem is not None:
            raise SourceError(problem)
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object owns and closes it
            data = fh.read(MAX_FILE_BYTES + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > MAX_FILE_BYTES:  # it grew after the check
        raise SourceError(f"file too large to analyse (over {MAX_FILE_BYTES // 2**20} MiB); not read")
    return data


def detect_newline(text: str) -> str:
    i = text.find("\n")
    if i > 0 and text[i - 1] == "\r":
        return "\r\n"
    if i < 0 and "\r" in text:
        return "\r"
    return "\n"


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


# Source-transforming codecs installed as packages (`# -*- coding: future_fstrings -*-`
# backports f-strings to old interpreters): on Python 3.6+ they read UTF-8 unchanged.
_SOURCE_TRANSFORM_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*future[-_]fstrings\b", re.MULTILINE)


def decode(data: bytes) -> SourceText:
    for mark, name in _WIDE_BOMS:  # UTF-32 first: its little-endian mark starts like UTF-16's
        if data.startswith(mark):
            raise SourceError(
                f"file is {name} text (it starts with a {name} byte-order mark); "
                "Python reads source as UTF-8 or an ASCII-compatible encoding"
            )
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError("file contains a NUL byte; it is not Python source", line, 1)
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if not _SOURCE_TRANSFORM_COOKIE.search(data[:400]):
            raise SourceError(f"cannot determine the file's encoding: {exc}") from None
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = 1
        if isinstance(exc, UnicodeDecodeError):
            line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"file is not valid {encoding} (declare its encoding with a coding cookie): {exc}", line, 1
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceText(
        text=text, encoding="utf-8" if encoding == "utf-8-sig" else encoding, bom=bom, newline=detect_newline(text)
    )


def first_line_of(text: str, line: int) -> Optional[str]:
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None


# ---------------------------------------------------------------------------- excerpts
#
# A snippet copied from inside a function (a pasted excerpt, a notebook cell) is indented as
# a whole, which Python refuses ("unexpected indent"). Such a region (the file, or one cell
# of a notebook) whose first line of code is indented, and whose lines of code all share that
# indentation, is parsed without it. The lines keep their numbers; `Dedent` says, per line,
# how many characters were removed (positions add them back) and the region's indentation
# (a fix's new lines get it).

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_FIRST_CODE = re.compile(r"^[ \t\f]*[^ \t\f\r\n#]", re.M)
_LEADING = re.compile(r"[ \t\f]*")


@dataclass
class Dedent:
    text: str  # the text as parsed
    removed: Dict[int, int]  # 1-based line -> characters removed at its start
    indent: Dict[int, str]  # 1-based line -> its region's indentation (dedented regions only)

    def column(self, line: int, column: int) -> int:
        """A column of the parsed text as a column of the original (either base)."""
        return column + self.removed.get(line, 0)


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def dedent_excerpt(text: str, region: Optional[Callable[[int], object]] = None) -> Optional[Dedent]:
    """`text` without the indentation of its indented excerpts (see above), or None when no
    region is one. `region(line)`: which region a 1-based line belongs to (a notebook's cell);
    None: the whole text is one."""
    if region is None:
        first = _FIRST_CODE.search(text)
        if first is None or text[first.start()] not in " \t\f":
            return None  # the usual case, decided without splitting the text into lines
    lines = _LINES.findall(text)
    regions: Dict[object, List[int]] = {}
    for i in range(len(lines)):
        regions.setdefault(region(i + 1) if region is not None else None, []).append(i)
    removed: Dict[int, int] = {}
    indent: Dict[int, str] = {}
    for members in regions.values():
        code = [lines[i] for i in members if _is_code(lines[i])]
        if not code or code[0][0] not in " \t\f":
            continue
        prefix = _LEADING.match(code[0]).group()  # type: ignore[union-attr]
        for line in code[1:]:
            n = 0
            while n < len(prefix) and n < len(line) and line[n] == prefix[n]:
                n += 1
            prefix = prefix[:n]
            if not prefix:
                break
        if not prefix:
            continue  # a line of code less indented than the first: not an excerpt
        for i in members:
            line = lines[i]
            n = 0
            while n < len(prefix) and n < len(line) and line[n] == prefix[n]:
                n += 1
            indent[i + 1] = prefix
            if n:
                removed[i + 1] = n
                lines[i] = line[n:]
    if not removed:
        return None
    return Dedent("".join(lines), removed, indent)


# ---------------------------------------------------------------------------- complexity guard
#
# libcst's native parser recurses once per nesting level and crashes the whole process
# (a stack overflow, not an exception) a few thousand levels down; its Python side (code
# generation, positions, visitors) raises RecursionError a few hundred levels down; and its
# parse time grows faster than linearly with the length of one expression. So before a file
# is parsed, a small lexer bounds how deep its syntax tree can get and counts its tokens, and
# files past these limits are reported instead of analysed.
#
# The bound: an open bracket counts twice (the bracket's node and its element's), an
# indentation level once, and within one expression, for each operator precedence level,
# the longest run of operators of that level inside one operand of a lower level (`a*b*c + d`
# counts 2 for `*` and 1 for `+`, as deep as its tree). Attribute dots, calls and subscripts
# are the highest level; adjacent string literals (implicit concatenation) nest in libcst too.
# The rest of the pipeline fails near 300 on this scale; CPython refuses 200 nested brackets.
MAX_DEPTH = 200
# About 20,000 lines of ordinary code, which takes several seconds just to parse.
MAX_TOKENS = 200_000

_CODE = re.compile(
    r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<cont>\\(?:\r\n|\r|\n))
    | (?P<nl>\r\n|\r|\n)
    | (?P<fstr>(?:[fF][rR]?|[rR][fF])(?:'''|\"\"\"|'|"))
    | (?P<str>(?:[rR][bB]?|[bB][rR]?|[uU])?
        (?:'''(?:\\.|[^\\])*?(?:'''|\Z)|\"\"\"(?:\\.|[^\\])*?(?:\"\"\"|\Z)
          |'(?:\\.|[^\\'\r\n])*'?|"(?:\\.|[^\\"\r\n])*"?))
    | (?P<num>\.?\d(?:[eE][+-]|[\w.])*)
    | (?P<name>\w+)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<reset>[,;]|(?:\*\*|//|>>|<<|[-+*/%@&|^])?=(?!=))
    | (?P<colon>:(?!=))
    | (?P<op>->|:=|==|!=|<=|>=|\*\*|//|<<|>>|[-+*/%@&|^~<>.!])
    """,
    re.VERBOSE | re.DOTALL,
)
_INDENT = re.compile(r"[ \t\f]*")
# Precedence levels, lowest first (the Python reference's table, with `.`/calls on top).
_LEVELS = 16
_PRIMARY, _CONCAT, _UNARY, _BINARY_ADD = 14, 15, 11, 9
_OP_LEVEL = {
    "lambda": 0,
    "if": 0,
    "else": 0,
    ":=": 0,
    "->": 0,
    "yield": 0,
    "or": 1,
    "and": 2,
    "not": 3,
    "in": 4,
    "is": 4,
    "<": 4,
    ">": 4,
    "==": 4,
    ">=": 4,
    "<=": 4,
    "!=": 4,
    "!": 4,
    "|": 5,
    "^": 6,
    "&": 7,
    "<<": 8,
    ">>": 8,
    "+": 9,
    "-": 9,
    "*": 10,
    "/": 10,
    "//": 10,
    "%": 10,
    "@": 10,
    "~": 11,
    "**": 12,
    "await": 13,
    ".": _PRIMARY,
}
_NOT_ATOMS = frozenset(keyword.kwlist) - {"True", "False", "None"}
_ZEROS = [0] * _LEVELS
_TOP, _BRACKET, _FSTRING, _FIELD, _SPEC = range(5)
_STRING_PARTS: Dict[Tuple[str, bool], "re.Pattern[str]"] = {}


def _string_part(quote: str, spec: bool) -> "re.Pattern[str]":
    """What ends or interrupts the literal text of an f-string (or of a format spec)."""
    key = (quote, spec)
    if key not in _STRING_PARTS:
        alts = [r"\{", r"\}", re.escape(quote)]
        if not spec:
            alts[:0] = [r"\\[^{}]", r"\{\{", r"\}\}"]
        if len(quote) == 1:
            alts.append(r"[\r\n]")
        _STRING_PARTS[key] = re.compile("|".join(alts), re.DOTALL)
    return _STRING_PARTS[key]


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + text.count("\r", 0, pos) - text.count("\r\n", 0, pos) + 1


def _closing_quote(opener: str) -> str:
    return opener[-3:] if opener[-3:] in ("'''", '"""') else opener[-1]


class _Nesting:
    """The top level, or one bracket, f-string, replacement field or format spec."""

    __slots__ = ("kind", "quote", "runs", "maxes", "depth")

    def __init__(self, kind: int, quote: str) -> None:
        self.kind = kind
        self.quote = quote  # the closing quote of the f-string this frame belongs to
        self.runs = list(_ZEROS)
        self.maxes = list(_ZEROS)
        self.depth = 0  # sum(maxes)

    def operator(self, level: int) -> int:
        """Count one operator; returns how much the frame's bound grew (0 or 1)."""
        runs = self.runs
        runs[level] += 1
        if level + 1 < _LEVELS:
            runs[level + 1 :] = _ZEROS[level + 1 :]
        if runs[level] > self.maxes[level]:
            self.maxes[level] = runs[level]
            self.depth += 1
            return 1
        return 0

    def reset(self) -> int:
        """A new expression starts (`,`, `=`, `;`, a new line); returns how much the bound fell."""
        fell = self.depth
        self.runs = list(_ZEROS)
        self.maxes = list(_ZEROS)
        self.depth = 0
        return fell


# The tokens that decide where a statement ends, as `_CODE` reads them: strings (from their
# quote: a prefix does not move where a string ends), comments, continuations, newlines and
# brackets. Every alternative starts with one of a few characters, and the string patterns
# are `_CODE`'s written as runs of plain characters, which the regex engine matches fast.
_STRUCTURE = re.compile(
    r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<cont>\\(?:\r\n|\r|\n))
    | (?P<nl>\r\n|\r|\n)
    | (?P<str>'\'\'[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'\'\'|\Z)
          |\"\"\"[^\"\\]*(?:(?:\\.|\"(?!\"\"))[^\"\\]*)*(?:\"\"\"|\Z)
          |'[^\\'\r\n]*(?:\\.[^\\'\r\n]*)*'?|\"[^\\\"\r\n]*(?:\\.[^\\\"\r\n]*)*\"?)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    """,
    re.VERBOSE | re.DOTALL,
)
# What can raise the estimate inside a statement, each counted at least as much as it can:
# an operator (+1; it has at least one of these characters), a keyword operator (+1), a
# bracket (+2), a string (+1 when concatenated; it has at least one quote).
_OPERATOR_CHARS = "-+*/%@&|^~<>.!=:"
_KEYWORD_OPS = re.compile(r"\b(?:lambda|if|else|yield|or|and|not|in|is|await)\b")


def _statement_end(text: str, pos: int, budget: int) -> int:
    """Where the scan may resume after the statement that starts at `pos` at the top level:
    at the newline that ends it, when nothing in it can raise the estimate by more than
    `budget` (then the statement leaves the state as it found it); else `pos` itself. A
    statement with an f-string is not skipped: its fields nest."""
    end = _simple_line_end(text, pos)
    if end >= 0:
        return _skip_if_within(text, pos, end, budget)
    level = 0
    end = len(text)
    for m in _STRUCTURE.finditer(text, pos):
        group = m.lastgroup
        if group == "nl":
            if level == 0:
                end = m.start()
                break
        elif group == "str":
            q = m.start()
            if text[q - 1 : q] in ("f", "F") or text[q - 2 : q].lower() in ("fr", "rf"):
                return pos  # (also when the letters end a name: then it is skipped less often)
        elif group == "open":
            level += 1
        elif group == "close":
            level -= 1
            if level < 0:
                return pos
    if level != 0:
        return pos
    return _skip_if_within(text, pos, end, budget)


def _skip_if_within(text: str, pos: int, end: int, budget: int) -> int:
    """`end` when the statement `text[pos:end]` cannot raise the estimate by more than
    `budget`, else `pos`."""
    segment = text[pos:end]
    if 2 * len(segment) > budget:
        raised = 2 * sum(segment.count(c) for c in "([{'\"") + sum(segment.count(c) for c in _OPERATOR_CHARS)
        if raised > budget or raised + len(_KEYWORD_OPS.findall(segment)) > budget:
            return pos
    return end


# A line that needs the full scan: a string, a comment, a continuation or an old Mac newline.
_NEEDS_SCAN = re.compile(r"['\"#\\\r]")
_BRACKET_CHAR = re.compile(r"[()\[\]{}]")


def _simple_line_end(text: str, pos: int) -> int:
    """Where the statement at `pos` ends when it is one physical line with no string,
    comment or continuation and its brackets balance without closing early (most lines:
    then no token scan is needed); else -1."""
    nl = text.find("\n", pos)
    if nl < 0:
        nl = len(text)
    end = nl - 1 if nl > pos and text[nl - 1] == "\r" else nl
    if _NEEDS_SCAN.search(text, pos, end):
        return -1
    level = 0
    for b in _BRACKET_CHAR.findall(text, pos, end):
        level += 1 if b in "([{" else -1
        if level < 0:
            return -1
    return end if level == 0 else -1


def _indent_change(text: str, pos: int, indents: List[int]) -> int:
    """How a new line at `pos` (top level) changes the block depth; updates `indents`."""
    im = _INDENT.match(text, pos)
    nxt = text[im.end() : im.end() + 1] if im else ""
    if not (im and nxt and nxt not in "\r\n#\\"):
        return 0  # a blank or comment line, or a continuation: no new block
    change = 0
    width = len(im.group().expandtabs(8).replace("\f", ""))
    while width < indents[-1]:
        indents.pop()
        change -= 1
    if width > indents[-1]:
        indents.append(width)
        change += 1
    return change


# One loop over the tokens, by design: it runs on every file before parsing, and a call per
# token would cost more than the branches it saves.
def complexity_problem(  # noqa: C901
    text: str, max_depth: Optional[int] = None, max_tokens: Optional[int] = None
) -> Optional[Tuple[str, int]]:
    """Why `text` is too deeply nested or too large to parse safely, and the line; else None."""
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    max_tokens = MAX_TOKENS if max_tokens is None else max_tokens
    frames: List[_Nesting] = [_Nesting(_TOP, "")]
    indents: List[int] = [0]
    depth = 0  # len(indents) - 1 + the frames' bounds + 1 for each frame above the top
    tokens = 0
    after_atom = False  # the previous token ends an operand: `(` is a call, `-` is binary
    pos, end = 0, len(text)

    def too_deep(at: int) -> Tuple[str, int]:
        return (
            f"code nested too deeply to analyse safely (estimated depth over {max_depth}); not analysed",
            _line_at(text, at),
        )

    def push(kind: int, quote: str) -> None:
        nonlocal depth
        frames.append(_Nesting(kind, quote))
        depth += 1

    def pop() -> _Nesting:
        nonlocal depth
        frame = frames.pop()
        depth -= 1 + frame.depth
        return frame

    def end_fstring() -> None:
        # The end of the f-string (or of an unterminated one), and of an open spec.
        while frames[-1].kind in (_SPEC, _FIELD, _FSTRING):
            if pop().kind == _FSTRING:
                break

    # Statements that cannot change the state are skipped (see `_statement_end`), only in a
    # file too short to hold more than `max_tokens` tokens: skipped tokens are not counted.
    skipping = end <= max_tokens
    fresh_line = False  # just after a newline at the top level, before the line's first token
    while pos < end:
        top = frames[-1]
        if fresh_line:
            fresh_line = False
            if skipping and len(frames) == 1:
                pos = _statement_end(text, pos, max_depth - depth)
                if pos >= end:
                    break
        if top.kind in (_FSTRING, _SPEC):
            sm = _string_part(top.quote, top.kind == _SPEC).search(text, pos)
            if sm is None:
                break
            tok, pos = sm.group(), sm.end()
            if tok == "{":
                push(_FIELD, top.quote)
            elif tok == "}" and top.kind == _SPEC:
                pop()
            elif tok == top.quote or tok in ("\r", "\n"):
                end_fstring()
                after_atom = True
                if tok in ("\r", "\n"):
                    pos = sm.start()
            if depth > max_depth:
                return too_deep(sm.start())
            continue
        m = _CODE.search(text, pos)
        if m is None:
            break
        pos = m.end()
        tokens += 1
        if tokens > max_tokens:
            return (f"file too large to analyse (more than {max_tokens:,} tokens); not analysed", 1)
        group, tok = m.lastgroup, m.group()
        if group == "comment" or group == "cont":
            continue
        if group == "nl":
            if top.kind == _TOP:
                depth += _indent_change(text, pos, indents) - top.reset()
                after_atom = False
                fresh_line = True
            continue
        if group == "op" or (group == "name" and tok in _OP_LEVEL):
            level = _OP_LEVEL.get(tok, _UNARY)
            if level == _BINARY_ADD and not after_atom:
                level = _UNARY
            depth += top.operator(level)
            after_atom = False
        elif group == "str" or group == "num" or group == "name":
            if group == "str" and after_atom:
                depth += top.operator(_CONCAT)
            after_atom = group != "name" or tok not in _NOT_ATOMS
        elif group == "open" or group == "fstr":
            depth += top.operator(_CONCAT if group == "fstr" and after_atom else _PRIMARY)
            push(_BRACKET if group == "open" else _FSTRING, _closing_quote(tok) if group == "fstr" else top.quote)
            after_atom = False
        elif group == "close":
            if top.kind == _BRACKET or (top.kind == _FIELD and tok == "}"):
                pop()
            after_atom = True
        elif group == "reset":
            depth -= top.reset()
            after_atom = False
        elif group == "colon":
            if top.kind == _FIELD:
                top.kind = _SPEC
            after_atom = False
        if depth > max_depth:
            return too_deep(m.start())
    return None
