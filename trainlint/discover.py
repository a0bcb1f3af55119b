"""Which files a check covers: the Python files and notebooks under the paths given."""

from __future__ import annotations

import os
from typing import List, Sequence, Tuple

from trainlint.config import Settings
from trainlint.diagnostics import Diagnostic
from trainlint.registry import tool_diagnostic
from trainlint.source import lint_refusal

PY_SUFFIXES = (".py", ".pyi", ".ipynb")


def discover(
    paths: Sequence[str], settings: Settings, force_exclude: bool = False
) -> Tuple[List[str], List[Diagnostic]]:
    """Python files and notebooks under `paths`; explicit files are kept unless force-excluded."""
    out: List[str] = []
    problems: List[Diagnostic] = []
    seen = set()

    def add(p: str) -> None:
        refusal = lint_refusal(p)  # never open a FIFO or a device: reading it would hang
        if refusal is not None:
            problems.append(tool_diagnostic("TL001", p, refusal))
            return
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)

    for p in paths:
        if os.path.isdir(p):
            if force_exclude and settings.is_excluded(p) and p not in (".", ""):
                continue
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not settings.is_excluded(os.path.join(dirpath, d)))
                for name in sorted(filenames):
                    full = os.path.join(dirpath, name)
                    if name.endswith(PY_SUFFIXES) and not settings.is_excluded(full):
                        add(_clean(full))
        elif os.path.exists(p) or os.path.islink(p):
            if force_exclude and settings.is_excluded(p):
                continue
            add(_clean(p))
        else:
            problems.append(tool_diagnostic("TL001", p, f"no such file or directory: {p}"))
    return out, problems


def _clean(path: str) -> str:
    return path[2:] if path.startswith("./") else path
