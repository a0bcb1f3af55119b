"""Positions in a notebook's own text: findings in notebooks are placed by cell and line within
the cell, but SARIF viewers and GitHub annotations open the `.ipynb` file as JSON text."""

from __future__ import annotations

import functools
import os
from typing import Optional, Tuple

from trainlint.notebook import RawLocator, raw_locator


def in_notebook_text(path: str, cell: int, line: int, column: int) -> Optional[Tuple[int, int]]:
    """(line, column) in the `.ipynb` file's text of a position given by cell; None when the
    file cannot be read or the position not found."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _locator(path, st.st_mtime_ns, st.st_size)(cell, line, column)


@functools.lru_cache(maxsize=32)
def _locator(path: str, mtime: int, size: int) -> RawLocator:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        data = b""
    return raw_locator(data)
