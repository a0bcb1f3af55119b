"""Every rule trainlint knows, by code and by name, collected from the rule files.

`RULES` maps each code to its `Rule` (metadata, options, check, fixes, verdict: see
`rules/base.py`), whether the rule is static, runtime-only (TL9xx) or about the tool (TL0xx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional

from trainlint.diagnostics import Diagnostic, Span

if TYPE_CHECKING:
    from trainlint.rules.base import Rule

RULES: Dict[str, "Rule"]
BY_NAME: Dict[str, "Rule"]


def __getattr__(name: str) -> Any:
    # The rule files import the analysis, so the table is built on first use, not on import.
    if name in ("RULES", "BY_NAME"):
        _build()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build() -> None:
    from trainlint.rules import discover_rules

    rules = discover_rules()
    globals()["RULES"] = {r.code: r for r in rules}
    globals()["BY_NAME"] = {r.name: r for r in rules}


def _rules() -> Dict[str, Rule]:
    if "RULES" not in globals():
        _build()
    return globals()["RULES"]  # type: ignore[no-any-return]


def lookup(code_or_name: str) -> Optional[Rule]:
    key = code_or_name.strip()
    by_code = _rules()
    return by_code.get(key.upper()) or globals()["BY_NAME"].get(key.lower())


def all_rules() -> List[Rule]:
    return list(_rules().values())


def is_valid_selector(sel: str) -> bool:
    """`ALL`, a full code, or a prefix of at least one code (`TL`, `TL1`, `TL10`)."""
    sel = sel.strip().upper()
    if sel == "ALL":
        return True
    return any(code.startswith(sel) for code in _rules()) and sel.startswith("TL")


def expand(selectors: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for sel in selectors:
        s = sel.strip().upper()
        if s == "ALL":
            out.update(_rules())
        else:
            out.update(c for c in _rules() if c.startswith(s))
    return out


def tool_diagnostic(code: str, path: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    """A finding of the tool itself (TL001 unreadable or unparsable file, TL002 rule failure)."""
    info = _rules()[code]
    return Diagnostic(code, info.name, info.severity, message, path, Span(line, column, line, column))
