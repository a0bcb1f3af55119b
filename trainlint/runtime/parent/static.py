"""The static half of a trace: the script plus the project files it imports, found without running them.

Imports are read from the files' text, never by importing, as `check` reads them (`plan.py`).
"""

from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence

from trainlint.diagnostics import Diagnostic


def _module_file(base: str, dotted: str) -> Optional[str]:
    parts = [p for p in dotted.split(".") if p]
    if not parts:
        return None
    path = os.path.join(base, *parts)
    for candidate in (path + ".py", os.path.join(path, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def project_files(entry: str, settings: Any = None) -> List[str]:
    """`entry` and the project files it imports, directly or not: the files a run of it loads.
    They come from the project plan that `check` makes (`plan.py`), so the trace judges the
    same cross-file findings."""
    from trainlint.config import Settings
    from trainlint.plan import make_plan
    from trainlint.source import read_bytes_or_none

    plan = make_plan([entry], [read_bytes_or_none(entry)], settings if settings is not None else Settings())
    return [entry, *plan.imported]


def module_entry(module: str) -> Optional[str]:
    """The file `python -m module` would run, looked up under the working folder only."""
    base = os.getcwd()
    target = _module_file(base, module)
    if target and target.endswith("__init__.py"):
        main = os.path.join(os.path.dirname(target), "__main__.py")
        return os.path.relpath(main) if os.path.isfile(main) else None
    return os.path.relpath(target) if target else None


def check(paths: Sequence[str], settings: Any) -> List[Diagnostic]:
    """Static findings over `paths` (empty if the static checker is not available)."""
    try:
        from trainlint.pipeline import check_paths
    except ImportError:
        return []
    try:
        return list(check_paths(list(paths), settings).diagnostics)
    except Exception as exc:  # a defect of the static side must not cost the runtime evidence
        import sys

        print(f"trainlint: static checks failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []
