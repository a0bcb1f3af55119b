"""The project plan: which files are analysed together, and which of them are reported on.

`check`, `--fix`, the editor server and the tracer's static pass all ask this module, so a
file gets the same cross-file findings through each of them:

1. the files asked for, plus their *context* (`context.py`: the project files linked to them
   by imports in either direction, analysed but never reported on);
2. the import components of those files: groups linked by imports in either direction, the
   imports resolved as `context.py` resolves them, among these files only (files of different
   projects are never linked). Each component is analysed as one project; a component holding
   none of the files asked for is left out.

Nothing is imported or executed: imports are read from the files' text.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from trainlint.config import Settings
from trainlint.context import find_context, import_links

# A file none of whose bytes contain one of these cannot produce a finding: every rule needs
# torch (imported or used), an optimizer, a loss, a DataLoader, gradients or a data reader.
RELEVANT_TOKENS: Tuple[bytes, ...] = (
    b"torch",
    b"backward",
    b"zero_grad",
    b"grad",
    b"optim",
    b"nn.",
    b"DataLoader",
    b"step(",
    b"loss",
    b"Loss",
    b"softmax",
    b"sigmoid",
    b"tanh",  # hand-written NumPy backpropagation (TL606)
    b"expit",
    b"dropout",
    b"read_csv",
    b"genfromtxt",
    b"loadtxt",
    b"np.load",
    b"lightning",
    b"accelerate",
    b"Accelerator",
    b"fabric",
    b"lr",
    b"learning_rate",  # Hugging Face `TrainingArguments(learning_rate=...)` (TL501)
)


@dataclass
class Group:
    """Files analysed as one project: `paths` (with their bytes, None when unreadable), of which
    `report` are reported on (None: all of them)."""

    paths: List[str]
    data: List[Optional[bytes]]
    report: Optional[List[str]]

    @property
    def asked(self) -> int:
        return len(self.paths) if self.report is None else len(self.report)


@dataclass
class Plan:
    """The files asked for (the first `asked` of `paths`), their context, and the groups."""

    paths: List[str]
    data: List[Optional[bytes]]
    asked: int
    groups: List[List[int]] = field(default_factory=list)  # indices into `paths`
    # Context files the asked ones import, directly or not (what running them would load).
    imported: List[str] = field(default_factory=list)

    def tasks(self) -> Iterator[Group]:
        """Each group holding a file asked for."""
        for group in self.groups:
            mine = [i for i in group if i < self.asked]
            if not mine:
                continue  # context that no asked file is linked to
            report = [self.paths[i] for i in mine] if len(mine) < len(group) else None
            yield Group([self.paths[i] for i in group], [self.data[i] for i in group], report)


def make_plan(
    files: Sequence[str],
    contents: Sequence[Optional[bytes]],
    settings: Settings,
    context: bool = True,
    overrides: Optional[Dict[str, bytes]] = None,
    reuse_reads: bool = False,
) -> Plan:
    """The plan for checking `files` (whose bytes are `contents`). `context=False` analyses the
    files alone. `overrides` (path -> bytes) replace what is on disk for context files (an
    editor's unsaved buffers); `reuse_reads` keeps unchanged files' bytes between calls."""
    plan = Plan(list(files), list(contents), len(files))
    if context and files:
        found = find_context(files, contents, settings, reuse_reads)
        plan.paths += found.paths
        plan.data += [(overrides or {}).get(p, d) for p, d in zip(found.paths, found.contents)]
        plan.imported = found.imported
    plan.groups = group_files(plan.paths, plan.data)
    return plan


def group_files(paths: Sequence[str], data: Sequence[Optional[bytes]]) -> List[List[int]]:
    """The import components of `paths`: lists of indices, each sorted, in order of first file."""
    parent = list(range(len(paths)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, targets in enumerate(import_links(paths, data)):
        for j in targets:
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    groups: Dict[int, List[int]] = {}
    for i in range(len(paths)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def is_relevant(data: bytes) -> bool:
    return any(tok in data for tok in RELEVANT_TOKENS)


def _parses(data: bytes) -> bool:
    """Python's own parser accepts the file (a cheap check; nothing is executed)."""
    try:
        ast.parse(data)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def skippable(path: str, data: Optional[bytes]) -> bool:
    """A file that cannot hold a finding: it parses and mentions nothing a rule looks at."""
    return data is not None and not path.endswith(".ipynb") and not is_relevant(data) and _parses(data)
