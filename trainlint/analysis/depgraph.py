"""Import statements read from a file's text, without parsing it.

Cross-file facts (a model class in models.py, a helper's body, the call sites that bind a
parameter) only flow along imports: `context.py` resolves these statements to project files,
and the files linked by them form the import components of the project plan (`plan.py`).
"""

from __future__ import annotations

import re
from typing import Iterator, List, Tuple

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
