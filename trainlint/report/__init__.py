"""Output formats. Each formatter turns a CheckResult into the text printed on stdout."""

from __future__ import annotations

from typing import Callable, Dict

from trainlint.diagnostics import CheckResult

Formatter = Callable[[CheckResult], str]


def formatters() -> Dict[str, Formatter]:
    from trainlint.report import json_format, text

    found: Dict[str, Formatter] = {"text": text.render, "json": json_format.render}
    for name in ("sarif", "github"):
        try:
            mod = __import__(f"trainlint.report.{name}", fromlist=["render"])
        except ImportError:
            continue
        found[name] = mod.render
    return found


def render(fmt: str, result: CheckResult) -> str:
    return formatters()[fmt](result)
