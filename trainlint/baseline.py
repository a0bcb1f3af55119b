"""The baseline file: findings accepted when trainlint was adopted, which `check` then hides.

An entry is a finding's identity (`fingerprints.py`): its rule, its path relative to the
baseline file's folder, the text of its line (whitespace normalised) and the occurrence of
that text among the file's findings of that rule. No line number, so an entry keeps matching
when code is edited above its finding.

The file is JSON with one entry per line, sorted, so a change reads well in a diff:

    {
      "version": 1,
      "findings": [
        {"path": "train.py", "code": "TL101", "line": "loss.backward()", "occurrence": 0}
      ]
    }

It shrinks by itself: a run drops the entries that it covered and that no longer match a
finding. A run covers an entry when it checked the entry's file, could analyse that file (no
TL001, no TL002) and had the entry's rule in force for it; an entry whose file is gone is
dropped too. Entries of files the run did not check stay, because pre-commit hands over only
the changed files.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set

from trainlint import registry
from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic
from trainlint.fingerprints import identities

VERSION = 1
# Never hidden: a rule that crashed is a defect of trainlint, not a finding to accept.
NEVER_BASELINED = frozenset({"TL002"})
# A file with one of these was not analysed: the run cannot tell which of its entries are gone.
NOT_ANALYSED = frozenset({"TL001", "TL002"})


class BaselineError(Exception):
    """A baseline file that cannot be read or written; the CLI prints it and exits 2."""


class Entry(NamedTuple):
    path: str
    code: str
    line: str
    occurrence: int

    def to_json(self) -> str:
        data = {"path": self.path, "code": self.code, "line": self.line, "occurrence": self.occurrence}
        return json.dumps(data, ensure_ascii=False)


@dataclass
class Baseline:
    path: str
    entries: Set[Entry] = field(default_factory=set)
    raw: Optional[bytes] = None  # the file's bytes when it was read; None when it did not exist

    @property
    def root(self) -> str:
        """The folder the entries' paths are relative to: the baseline file's own."""
        return os.path.dirname(os.path.abspath(self.path))


@dataclass
class Outcome:
    """What a run did with the baseline."""

    entries: Set[Entry]  # the baseline as it should now be
    added: int = 0
    removed: int = 0


# ---------------------------------------------------------------------------- reading


def load(path: str, missing_ok: bool = False) -> Baseline:
    """The baseline at `path`. A missing file is an error unless `missing_ok` (it is about to
    be written): then the baseline is empty."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        if missing_ok:
            return Baseline(path)
        raise BaselineError(
            f"{path}: no such baseline file (record one with `trainlint check --update-baseline`)"
        ) from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    return Baseline(path, parse(raw, path), raw)


def parse(raw: bytes, path: str) -> Set[Entry]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"{path}: not a trainlint baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or "findings" not in data:
        raise BaselineError(f"{path}: not a trainlint baseline (no `findings` list)")
    if data.get("version") != VERSION:
        raise BaselineError(
            f"{path}: baseline version {data.get('version')!r} is not supported (this trainlint reads {VERSION})"
        )
    findings = data["findings"]
    if not isinstance(findings, list):
        raise BaselineError(f"{path}: `findings` must be a list")
    return {_entry(item, path, i) for i, item in enumerate(findings, start=1)}


def _entry(item: Any, path: str, index: int) -> Entry:
    where = f"{path}: finding {index}"
    if not isinstance(item, dict):
        raise BaselineError(f"{where} is not an object")
    for key in ("path", "code", "line"):
        if not isinstance(item.get(key), str):
            raise BaselineError(f"{where}: `{key}` must be a string")
    occurrence = item.get("occurrence", 0)
    if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 0:
        raise BaselineError(f"{where}: `occurrence` must be a whole number >= 0")
    return Entry(item["path"], item["code"].upper(), item["line"], occurrence)


# ---------------------------------------------------------------------------- matching


def relative(path: str, root: str) -> str:
    """`path` relative to `root`, with forward slashes (absolute where there is no relative
    path, as across Windows drives)."""
    try:
        rel = os.path.relpath(os.path.abspath(path), root)
    except ValueError:
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def entries_of(diagnostics: List[Diagnostic], root: str) -> List[Optional[Entry]]:
    """The entry of each finding (None for those never baselined), in order."""
    ids = identities(diagnostics, path_key=lambda d: relative(d.path, root))
    return [
        None if d.code in NEVER_BASELINED else Entry(i.path, i.code, i.text, i.occurrence)
        for d, i in zip(diagnostics, ids)
    ]


def reconcile(
    result: CheckResult,
    baseline: Baseline,
    checked: Sequence[str],
    settings: Settings,
    update: bool = False,
) -> Outcome:
    """Move the findings the baseline records from `result.diagnostics` to `result.baselined`,
    and say what the baseline should now hold: its entries less those this run covered and no
    longer found (shrinking), or, with `update`, those plus every current finding."""
    root = baseline.root
    current: Set[Entry] = set()
    shown: List[Diagnostic] = []
    for d, entry in zip(result.diagnostics, entries_of(result.diagnostics, root)):
        if entry is not None:
            current.add(entry)
        if entry is not None and entry in baseline.entries:
            result.baselined.append(d)
        else:
            shown.append(d)
    result.diagnostics = shown
    covered = _coverage(result, baseline, checked, settings)
    kept = {e for e in baseline.entries if _exists(root, e) and (e in current or not covered(e))}
    if update:
        kept |= current
    return Outcome(kept, added=len(kept - baseline.entries), removed=len(baseline.entries - kept))


def _coverage(result: CheckResult, baseline: Baseline, checked: Sequence[str], settings: Settings) -> Any:
    root = baseline.root
    as_given = {relative(p, root): p for p in checked}
    not_analysed = {relative(d.path, root) for d in result.diagnostics + result.baselined if d.code in NOT_ANALYSED}
    enabled = settings.enabled_codes()
    ignored: Dict[str, Set[str]] = {}

    def covered(e: Entry) -> bool:
        given = as_given.get(e.path)
        if given is None or e.path in not_analysed:
            return False
        if e.code not in registry.RULES:
            return True  # a rule this version no longer has: nothing can match the entry
        if given not in ignored:
            ignored[given] = settings.ignored_for(given)
        return e.code in enabled and e.code not in ignored[given]

    return covered


def _exists(root: str, e: Entry) -> bool:
    return os.path.lexists(os.path.join(root, e.path))


# ---------------------------------------------------------------------------- writing


def render(entries: Iterable[Entry]) -> bytes:
    rows = [e.to_json() for e in sorted(entries)]
    try:
        return _document(rows).encode("utf-8")
    except UnicodeEncodeError:  # a file name's undecodable bytes: escaped, read back the same
        return _document([json.dumps(json.loads(row)) for row in rows]).encode("ascii")


def _document(rows: List[str]) -> str:
    findings = "[\n" + ",\n".join(f"    {row}" for row in rows) + "\n  ]" if rows else "[]"
    return f'{{\n  "version": {VERSION},\n  "findings": {findings}\n}}\n'


def write(baseline: Baseline, entries: Set[Entry]) -> None:
    """Replace the file with `entries`, atomically, unless it changed since it was read."""
    data = render(entries)
    target = os.path.realpath(baseline.path)  # through a symlink, rewrite what it points to
    folder = os.path.dirname(target) or "."
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise BaselineError(f"{baseline.path}: not written: {exc.strerror or exc}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".trainlint-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise BaselineError(f"{baseline.path}: not written: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if _on_disk(target) != baseline.raw:
            raise BaselineError(f"{baseline.path}: changed on disk during the check; not written")
        os.replace(tmp, target)
    except OSError as exc:
        raise BaselineError(f"{baseline.path}: not written: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _on_disk(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
