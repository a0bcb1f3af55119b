"""Helpers for tests and rule examples: lint source text without touching the disk."""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional

from trainlint.config import Settings
from trainlint.diagnostics import Diagnostic
from trainlint.engine import check_sources


def _settings(select: Optional[Iterable[str]]) -> Settings:
    s = Settings()
    if select is not None:
        s.select = list(select)
    return s


def lint_files(files: Dict[str, str], select: Optional[Iterable[str]] = None) -> List[Diagnostic]:
    return check_sources(files, _settings(select)).diagnostics


def lint_source(code: str, path: str = "train.py", select: Optional[Iterable[str]] = None) -> List[Diagnostic]:
    return lint_files({path: code}, select)


def codes(diags: Iterable[Diagnostic]) -> List[str]:
    return [d.code for d in diags]
