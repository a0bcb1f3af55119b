"""`--output-format sarif`: SARIF 2.1.0, the format GitHub code scanning and IDEs import.

Notes on the mapping:
- Columns are Unicode code points (libcst's), declared with `columnKind`; SARIF's `endColumn`
  is exclusive, like ours.
- Relative paths are resolved against `%SRCROOT%`, the folder trainlint ran in.
- Notebook findings keep the region within the cell (as every other output does) and name the
  cell in `region.properties.cell` and in the result's properties and message. Fixes are left
  out for notebooks: their edits address the cell's code, not the notebook's JSON.
- `partialFingerprints` hash the rule, the path, the reported line's text (whitespace
  normalised) and the occurrence of that text, never the line number, so an alert survives
  code inserted above it (`fingerprints.py`, shared with the baseline file).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from trainlint import __version__, registry
from trainlint.diagnostics import CheckResult, Diagnostic, Edit, Fix, Related, Severity, Span
from trainlint.fingerprints import digest, identities
from trainlint.report.positions import in_notebook_text
from trainlint.report.printable import dumps, raw_bytes

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "trainlint/v1"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SRCROOT = "%SRCROOT%"


def information_uri() -> str:
    """The project's home page from the installed metadata, or its package index page."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        meta = metadata("trainlint")
    except (ImportError, PackageNotFoundError):
        meta = None
    if meta is not None:
        for home in meta.get_all("Home-page") or []:
            if str(home).startswith(("https://", "http://")):
                return str(home)
        for entry in meta.get_all("Project-URL") or []:
            _, _, url = str(entry).partition(",")
            if url.strip().startswith(("https://", "http://")):
                return url.strip()
    return "https://pypi.org/project/trainlint/"


# ---------------------------------------------------------------------------- rules


def _rule_descriptor(code: str) -> Dict[str, Any]:
    from trainlint.pages import page_for

    info = registry.RULES[code]
    page = page_for(code)
    rule: Dict[str, Any] = {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "defaultConfiguration": {"level": _LEVELS[info.severity], "enabled": info.default_enabled},
        "properties": {"tags": sorted({info.family, info.kind}), "fixable": info.fixable},
    }
    what = _section(page, "What it does") if page else None
    if what:
        rule["fullDescription"] = {"text": what}
    # Viewers that render markdown show the whole page; the plain text stays short.
    plain = "\n\n".join(
        p for p in (info.summary, what, f"`trainlint explain {info.code}` prints the rule's page.") if p
    )
    rule["help"] = {"text": plain, "markdown": page} if page else {"text": plain}
    return rule


def _section(page: str, title: str) -> Optional[str]:
    m = re.search(rf"^## {re.escape(title)}\n(?P<body>.*?)(?=^## |\Z)", page, re.MULTILINE | re.DOTALL)
    if m is None:
        return None
    return " ".join(m.group("body").split()) or None


# ---------------------------------------------------------------------------- locations


def _artifact(path: str) -> Dict[str, Any]:
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    # A URI percent-encodes the name's bytes, undecodable ones included.
    return {"uri": quote(raw_bytes(path.replace(os.sep, "/"))), "uriBaseId": _SRCROOT}


def _region(line: int, column: int, end_line: int, end_column: int) -> Dict[str, Any]:
    line, column = max(line, 1), max(column, 1)
    end_line = max(end_line, line)
    end_column = max(end_column, 1) if end_line > line else max(end_column, column)
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _location(path: str, span: Span, cell: Optional[int]) -> Dict[str, Any]:
    if cell is None:
        region = _region(span.line, span.column, span.end_line, span.end_column)
        return {"physicalLocation": {"artifactLocation": _artifact(path), "region": region}}
    # A notebook: the region is in the `.ipynb` file's JSON text, where a viewer opens it; the
    # cell and the position within it stay as properties.
    in_cell = {"cell": cell, "cellLine": span.line, "cellColumn": span.column}
    start = in_notebook_text(path, cell, span.line, span.column)
    if start is None:
        return {"physicalLocation": {"artifactLocation": _artifact(path), "properties": in_cell}}
    end = in_notebook_text(path, cell, span.end_line, span.end_column) or start
    region = _region(start[0], start[1], end[0], end[1])
    region["properties"] = in_cell
    return {"physicalLocation": {"artifactLocation": _artifact(path), "region": region}}


def _related(index: int, r: Related) -> Dict[str, Any]:
    loc = _location(r.path, Span(r.line, r.column, r.line, r.column), r.cell)
    loc["id"] = index
    loc["message"] = {"text": r.message}
    return loc


def _fix(path: str, fix: Fix) -> Dict[str, Any]:
    """One `artifactChange` per file the fix edits (a fix may edit another file than the
    finding's: the model's `forward` for a loss in the training script)."""
    return {
        "description": {"text": fix.description},
        "artifactChanges": [
            {
                "artifactLocation": _artifact(file),
                "replacements": [_replacement(e) for e in fix.edits if (e.path or path) == file],
            }
            for file in fix.paths(path)
        ],
    }


def _replacement(e: Edit) -> Dict[str, Any]:
    return {
        "deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
        "insertedContent": {"text": e.content},
    }


# ---------------------------------------------------------------------------- fingerprints


def fingerprints(diagnostics: List[Diagnostic]) -> List[str]:
    return [digest(i) for i in identities(diagnostics)]


# ---------------------------------------------------------------------------- results


def _result(d: Diagnostic, rule_index: int, fingerprint: str) -> Dict[str, Any]:
    message = d.message
    if d.cell is not None:
        message = f"{message} (notebook cell {d.cell}, line {d.span.line})"
    result: Dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _LEVELS.get(d.severity, "error"),
        "message": {"text": message},
        "locations": [_location(d.path, d.span, d.cell)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if d.related:
        result["relatedLocations"] = [_related(i, r) for i, r in enumerate(d.related, start=1)]
    if d.fix is not None and d.fix.edits and all(e.cell is None for e in d.fix.edits):
        # (a notebook's edits are in cell positions, which SARIF's replacements cannot state)
        result["fixes"] = [_fix(d.path, d.fix)]
    props: Dict[str, Any] = {"name": d.name, "status": d.status.value}
    if d.cell is not None:
        props["cell"] = d.cell
    if d.fix is not None:
        props["fixApplicability"] = d.fix.applicability
    if d.evidence is not None:
        props["evidence"] = d.evidence
    result["properties"] = props
    return result


def as_dict(result: CheckResult) -> Dict[str, Any]:
    codes = [r.code for r in registry.all_rules()]
    index = {code: i for i, code in enumerate(codes)}
    prints = fingerprints(result.diagnostics)
    run: Dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "trainlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": information_uri(),
                "rules": [_rule_descriptor(code) for code in codes],
            }
        },
        "originalUriBaseIds": {_SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": result.internal_errors == 0}],
        "results": [_result(d, index[d.code], fp) for d, fp in zip(result.diagnostics, prints)],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(result: CheckResult) -> str:
    return dumps(as_dict(result)) + "\n"
