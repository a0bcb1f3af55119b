"""Reading a file's bytes into text the way Python itself would, without ever raising."""

from __future__ import annotations

import codecs
import io
import tokenize
from dataclasses import dataclass
from typing import Optional


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


def detect_newline(text: str) -> str:
    i = text.find("\n")
    if i > 0 and text[i - 1] == "\r":
        return "\r\n"
    if i < 0 and "\r" in text:
        return "\r"
    return "\n"


def decode(data: bytes) -> SourceText:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError("file contains a NUL byte; it is not Python source", line, 1)
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot determine the file's encoding: {exc}") from None
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
    return SourceText(text=text, encoding="utf-8" if encoding == "utf-8-sig" else encoding, bom=bom, newline=detect_newline(text))


def first_line_of(text: str, line: int) -> Optional[str]:
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None
