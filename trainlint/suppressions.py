"""`# noqa: TL101` on a line, and `# trainlint: noqa` for a whole file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Set

from trainlint import registry

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_FILE_NOQA = re.compile(r"^\s*#\s*trainlint:\s*noqa(?::\s*(?P<codes>[A-Za-z0-9 ,]+))?\s*$", re.IGNORECASE)

ALL = None  # a bare noqa comment suppresses every code


@dataclass
class Suppressions:
    # line -> codes (None means all)
    lines: Dict[int, Optional[Set[str]]] = field(default_factory=dict)
    file_codes: Optional[Set[str]] = None
    file_all: bool = False

    def suppresses(self, code: str, line: int, first: Optional[int] = None, last: Optional[int] = None) -> bool:
        if self.file_all or (self.file_codes is not None and code in self.file_codes):
            return True
        for ln in {line, first, last}:
            if ln is None or ln not in self.lines:
                continue
            codes = self.lines[ln]
            if codes is None or code in codes:
                return True
        return False


def parse(text: str) -> Suppressions:
    sup = Suppressions()
    if "noqa" not in text and "NOQA" not in text:
        return sup
    in_header = True
    for i, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if in_header:
            if stripped.startswith("#"):
                m = _FILE_NOQA.match(raw)
                if m:
                    codes = m.group("codes")
                    if codes:
                        sup.file_codes = (sup.file_codes or set()) | registry.expand(
                            c for c in re.split(r"[ ,]+", codes) if c
                        )
                    else:
                        sup.file_all = True
                    continue
            elif stripped:
                in_header = False
        if "#" not in raw:
            continue
        m = _NOQA.search(raw[raw.index("#") :])
        if not m:
            continue
        codes = m.group("codes")
        if codes:
            sup.lines[i] = {c.strip().upper() for c in codes.split(",")}
        else:
            sup.lines[i] = ALL
    return sup
