"""Which linted files can see each other's facts, found without parsing.

Cross-file facts (a model class in models.py, a helper's body, the call sites that bind a
parameter) only flow along imports, so the linted files fall into *components*: groups
connected by imports in either direction. A component is the unit of analysis: it is parsed
and checked as one project, cached as one entry and handed to one worker. Checking a file
alone or inside any larger selection gives the same result as long as its component is whole.
"""

from __future__ import annotations

import os
import re
from typing import Dict, Iterator, List, Sequence, Set, Tuple

from trainlint.analysis.project import module_name_for

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<dots>\.*)(?P<base>[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#;]+)"
    r"|import[ \t]+(?P<mods>[^\n#;]+))",
    re.M,
)
_NAME = re.compile(r"[A-Za-z_][\w.]*")


def import_statements(text: str) -> Iterator[Tuple[int, str, List[str]]]:
    """(level of a relative import, module, imported names) for each import statement:
    `import a.b` gives (0, "a.b", []), `from ..m import x, y` gives (2, "m", ["x", "y"])."""
    if "import" not in text:
        return
    for m in _IMPORT.finditer(text):
        if m.group("mods") is not None:
            for part in m.group("mods").split(","):
                words = part.split()
                if words:
                    yield 0, words[0], []
            continue
        names = [n for n in _NAME.findall(m.group("names")) if n != "as"]
        yield len(m.group("dots")), m.group("base"), names


def imported_modules(text: str, module_name: str) -> Set[str]:
    """Dotted names a module may import: `a.b` for `import a.b`, `a.b` and `a.b.c` for
    `from a.b import c` (c may be a submodule). Relative imports are made absolute."""
    out: Set[str] = set()
    package = module_name.split(".")[:-1]
    for level, base, names in import_statements(text):
        if level:
            up = level - 1
            prefix = package[: len(package) - up] if up <= len(package) else []
            base = ".".join([*prefix, base] if base else prefix)
        if base:
            out.add(base)
        for name in names:
            out.add(f"{base}.{name}" if base else name)
    return out


class _Index:
    """Dotted-suffix index of module names, as `Project.find_module` resolves them."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self.by_suffix: Dict[str, List[int]] = {}
        for i, p in enumerate(paths):
            parts = module_name_for(p).split(".")
            for k in range(len(parts)):
                self.by_suffix.setdefault(".".join(parts[k:]), []).append(i)

    def find(self, dotted: str, near: int) -> List[int]:
        cands = self.by_suffix.get(dotted, [])
        if len(cands) <= 1:
            return cands
        here = os.path.dirname(self.paths[near])
        same = [c for c in cands if os.path.dirname(self.paths[c]) == here]
        # Ambiguous names could resolve either way: keep every candidate together.
        return same if len(same) == 1 else cands


def components(paths: Sequence[str], texts: Sequence[str]) -> List[List[int]]:
    """Groups of file indices connected by imports, each sorted, in order of first file."""
    index = _Index(paths)
    parent = list(range(len(paths)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (path, text) in enumerate(zip(paths, texts)):
        for dotted in imported_modules(text, module_name_for(path)):
            # `import a.b.c` may name a.b.c, a.b or a: any of them can be a linted file.
            parts = dotted.split(".")
            for k in range(len(parts), 0, -1):
                for j in index.find(".".join(parts[:k]), i):
                    if j != i:
                        ri, rj = find(i), find(j)
                        if ri != rj:
                            parent[max(ri, rj)] = min(ri, rj)
    groups: Dict[int, List[int]] = {}
    for i in range(len(paths)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])
