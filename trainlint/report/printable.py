"""Output that is always valid UTF-8, whatever the file names.

On POSIX a file name may hold any bytes; Python keeps the ones that are not UTF-8 as lone
surrogates (`bad\\udcff.py`), which cannot be written as UTF-8. Every format shows such a
byte as `\\xff`, the way `ls -b` does, instead of crashing or writing invalid text.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: "re.Match[str]") -> str:
    c = ord(m.group())
    # U+DC80..U+DCFF stand for the undecodable bytes 0x80..0xFF; any other lone one as `\\uXXXX`.
    return f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\u{c:04x}"


def printable(text: str) -> str:
    return _SURROGATE.sub(_escape, text)


def raw_bytes(text: str) -> bytes:
    """The bytes a file name stands for: undecodable ones as they were on disk (and, on
    Windows, unpaired UTF-16 halves as themselves) - for URIs and hashes."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _printable_values(obj: Any) -> Any:
    if isinstance(obj, str):
        return printable(obj)
    if isinstance(obj, dict):
        return {printable(k) if isinstance(k, str) else k: _printable_values(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_printable_values(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """`json.dumps(obj, indent=2, ensure_ascii=False)` with every string made printable."""
    out = json.dumps(obj, indent=2, ensure_ascii=False)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:
        out = json.dumps(_printable_values(obj), indent=2, ensure_ascii=False)
    return out
