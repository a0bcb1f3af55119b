"""`# noqa: TL101` on a line, and `# trainlint: noqa` for a whole file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional, Set, Tuple

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


def noqa_insertion(line: str, comment_at: Optional[int], codes: Iterable[str]) -> Optional[Tuple[int, str]]:
    """What to insert in `line` (a line of code, without its newline) so that its noqa comment
    covers `codes`, and at which index: the missing codes after those of the noqa comment in
    the line's comment (which starts at index `comment_at`), or a new `  # noqa: CODES` at the
    end of the line. None when the comment already covers them (a bare noqa covers all)."""
    wanted = sorted({c.upper() for c in codes})
    if comment_at is not None:
        m = _NOQA.search(line, comment_at)
        if m is not None:
            if m.group("codes") is None:
                return None
            have = {c.strip().upper() for c in m.group("codes").split(",")}
            missing = [c for c in wanted if c not in have]
            return (m.end("codes"), ", " + ", ".join(missing)) if missing else None
    return len(line.rstrip()), "  # noqa: " + ", ".join(wanted)
