"""Applying fixes to files: in memory first, checked, then written atomically.

A fix is kept only if, after applying it, the file still parses, re-linting the project no
longer reports the finding and reports nothing new, and the text outside the fix's edits is
unchanged. Fixes are applied in passes (a fix whose edits overlap another's waits for the next
pass) until none is left, at most `MAX_PASSES` times. Files are written only at the end, each
through a temporary file in its own folder and `os.replace`, keeping its encoding, BOM, newline
style and permissions, and never over a file that changed on disk since it was read.
"""

from __future__ import annotations

import ast
import codecs
import difflib
import json
import os
import re
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic, Edit, Fix
from trainlint.discover import discover
from trainlint.engine import LoadedFile, check_files, load_file
from trainlint.fixes.core import SAFE, EditError, apply_edits, line_starts, position_to_offset
from trainlint.plan import group_files, make_plan, skippable
from trainlint.report.printable import printable
from trainlint.source import SourceError, decode, read_bytes

MAX_PASSES = 10
_DIGITS = re.compile(r"\d+")
_NB_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass
class FileState:
    path: str
    original: bytes
    data: bytes
    mtime_ns: Optional[int] = None
    size: Optional[int] = None

    @property
    def changed(self) -> bool:
        return self.data != self.original

    @property
    def is_notebook(self) -> bool:
        return self.path.endswith(".ipynb")


@dataclass
class FixRecord:
    path: str
    code: str
    name: str
    description: str
    applicability: str
    reason: str = ""  # why a fix was dropped
    identity: Tuple[str, str, str, str] = ("", "", "", "")  # of the finding it fixes (`_identity`)
    # Every file the fix edits: written together or not at all.
    paths: Tuple[str, ...] = ()
    # Where its finding was (cell, line, column) when the fixer met it in the files as they
    # were: two findings with one identity (the same message at two lines) are told apart.
    where: Optional[Tuple[int, int, int]] = None


@dataclass
class FixRun:
    files: Dict[str, FileState] = field(default_factory=dict)
    applied: List[FixRecord] = field(default_factory=list)
    dropped: List[FixRecord] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    result: CheckResult = field(default_factory=CheckResult)
    problems: List[Diagnostic] = field(default_factory=list)
    # Context files (see `context.py`): analysed with the files to fix, never fixed.
    context: Dict[str, bytes] = field(default_factory=dict)
    # Findings gone after the fixes: one fix may resolve several (a softmax layer removed
    # resolves the finding at each loss it fed).
    resolved: int = 0
    # The files whose findings are fixed; None: every file of `files`. The others may only
    # receive the edits of a fix that spans several files.
    targets: Optional[Set[str]] = None
    # The findings of the files as they were (kept alive, so their ids stay theirs).
    first_seen: List[Diagnostic] = field(default_factory=list)
    first_ids: Set[int] = field(default_factory=set)

    def changed_files(self) -> List[FileState]:
        return [f for f in self.files.values() if f.changed]


def applicable(fix: Optional[Fix], unsafe: bool) -> bool:
    return fix is not None and bool(fix.edits) and (fix.applicability == SAFE or unsafe)


# ---------------------------------------------------------------------------- the passes


def fix_paths(
    paths: Sequence[str], settings: Settings, unsafe: bool = False, force_exclude: bool = False, context: bool = True
) -> FixRun:
    """Compute every applicable fix for the files under `paths`, in memory (nothing written).
    `context`: also analyse the project files linked to them by imports (never edited)."""
    files, problems = discover(paths, settings, force_exclude)
    run = FixRun(problems=problems)
    for p in files:
        try:
            data = read_bytes(p)  # a FIFO or device is refused, never waited on
            st = os.stat(p)
        except (OSError, SourceError):
            continue  # unreadable: the lint reports it (TL001), nothing to fix
        run.files[p] = FileState(p, data, data, st.st_mtime_ns, st.st_size)
    if context:
        plan = make_plan(list(run.files), [f.data for f in run.files.values()], settings)
        run.context = {p: d for p, d in zip(plan.paths[plan.asked :], plan.data[plan.asked :]) if d is not None}
    return fix_states(run, settings, unsafe)


def keep_verified_fixes(result: CheckResult, run: FixRun) -> None:
    """Take the fix off each finding of `result` whose fix `run` (the fixer on the same files,
    unsafe fixes included) dropped: the counts, the JSON `fix` field and the editor's quick
    fixes then offer only what `--fix` would apply. A finding is matched by its identity and
    where it was; a fix applied or dropped in a later pass, where positions have moved, is
    matched by identity alone, one finding per fix."""
    applied_at = {(r.identity, r.where) for r in run.applied if r.where is not None}
    dropped_at = {(r.identity, r.where) for r in run.dropped if r.where is not None}
    applied_later = Counter(r.identity for r in run.applied if r.where is None)
    dropped = {r.identity for r in run.dropped}
    for d in sorted(result.diagnostics, key=Diagnostic.sort_key):
        if d.fix is None:
            continue
        identity = _identity(d)
        if (identity, _where(d)) in applied_at:
            continue
        if (identity, _where(d)) in dropped_at:
            d.fix = None
        elif applied_later[identity] > 0:
            applied_later[identity] -= 1
        elif identity in dropped:
            d.fix = None


def fixable_files(result: CheckResult) -> List[str]:
    """The files with a finding that carries a fix, and the other checked files those fixes
    edit (a file known only as context is never edited: such a fix is not offered)."""
    out: set = set()
    for d in result.diagnostics:
        if d.fix is not None and applicable(d.fix, unsafe=True):
            out.update(p for p in [d.path, *d.fix.paths(d.path)] if result.checked is None or p in result.checked)
    return sorted(out)


def fix_sources(
    sources: Dict[str, str],
    settings: Settings,
    unsafe: bool = False,
    context: Optional[Dict[str, bytes]] = None,
    edit_context: bool = False,
) -> FixRun:
    """The same on in-memory sources (tests, the editor): path -> text, with the project files
    linked to them (`context`, analysed; edited only with `edit_context`, and then only by a
    fix of a source's finding that spans several files: the editor's quick fix edits the
    workspace)."""
    run = FixRun()
    for p, text in sources.items():
        data = text.encode("utf-8")
        run.files[p] = FileState(p, data, data)
    for p, data in (context or {}).items():
        if edit_context:
            run.files.setdefault(p, FileState(p, data, data))
        else:
            run.context[p] = data
    if edit_context:
        run.targets = set(sources)
    return fix_states(run, settings, unsafe)


def fix_states(run: FixRun, settings: Settings, unsafe: bool) -> FixRun:
    """Fix each component (files linked by imports, linted as one project) on its own."""
    paths = list(run.files) + [p for p in run.context if p not in run.files]
    final = CheckResult(files=len(run.files))
    for group in group_files(paths, [_data(run, p) for p in paths]):
        members = [paths[i] for i in group]
        if not any(p in run.files for p in members):
            continue  # context alone
        if all(skippable(p, _data(run, p)) for p in members):
            continue  # nothing in it can produce a finding, hence no fix
        result = _fix_component(run, members, settings, unsafe)
        final.diagnostics.extend(result.diagnostics)
        final.suppressed.extend(result.suppressed)
        final.internal_errors += result.internal_errors
    final.diagnostics = sorted(run.problems + final.diagnostics, key=Diagnostic.sort_key)
    final.suppressed.sort(key=Diagnostic.sort_key)
    run.result = final
    return run


def _data(run: FixRun, path: str) -> bytes:
    state = run.files.get(path)
    return state.data if state is not None else run.context[path]


def _fix_component(run: FixRun, members: Sequence[str], settings: Settings, unsafe: bool) -> CheckResult:
    loaded = {p: load_file(p, _data(run, p)) for p in members}
    result = _lint(loaded, settings, run)
    run.first_seen.extend(result.diagnostics)
    run.first_ids.update(id(d) for d in result.diagnostics)
    before = len(result.diagnostics)
    refused: set = set()  # fixes already dropped: not retried in later passes
    for _ in range(MAX_PASSES):
        plan = _plan(result, unsafe, refused, run.targets)
        if not plan:
            break
        accepted = _try_batch(run, loaded, result, plan, settings)
        if accepted is None:
            accepted = _try_one_by_one(run, loaded, result, plan, settings, refused)
        if not accepted:
            break
        loaded, result = accepted
    else:
        if _plan(result, unsafe, refused, run.targets):
            run.warnings.append(f"fixes did not settle after {MAX_PASSES} passes; some findings keep their fixes")
    run.resolved += max(before - len(result.diagnostics), 0)
    return result


def _lint(loaded: Dict[str, LoadedFile], settings: Settings, run: FixRun) -> CheckResult:
    """The findings of the files to fix (the context files are analysed, never reported on)."""
    for lf in loaded.values():
        if lf.facts is not None:
            lf.facts.forget()  # cross-file facts must be recomputed against the new project
    return check_files(list(loaded.values()), settings, report=run.files.keys())


def _plan(result: CheckResult, unsafe: bool, refused: set, targets: Optional[Set[str]] = None) -> List[Diagnostic]:
    """The fixes to try in this pass: applicable, not refused, of a target file, not
    overlapping (in any of the files they edit)."""
    plan: List[Diagnostic] = []
    taken: Dict[str, List[Tuple[Tuple[int, int, int], Tuple[int, int, int]]]] = {}
    for d in result.diagnostics:
        if not applicable(d.fix, unsafe) or _identity(d) in refused:
            continue
        if targets is not None and d.path not in targets:
            continue
        assert d.fix is not None
        spans = [
            (e.path or d.path, (e.cell or 0, e.line, e.column), (e.cell or 0, e.end_line, e.end_column))
            for e in d.fix.edits
        ]
        if any(_overlap((a, b), span) for path, a, b in spans for span in taken.get(path, ())):
            continue  # next pass, against the text this pass produces
        for path, a, b in spans:
            taken.setdefault(path, []).append((a, b))
        plan.append(d)
    return plan


def _overlap(
    a: Tuple[Tuple[int, int, int], Tuple[int, int, int]], b: Tuple[Tuple[int, int, int], Tuple[int, int, int]]
) -> bool:
    if a[0] == a[1] == b[0] == b[1]:
        return True  # two insertions at one place: their order would be arbitrary
    return a[0] <= b[1] and b[0] <= a[1]


def _identity(d: Diagnostic) -> Tuple[str, str, str, str]:
    return (d.path, d.code, _DIGITS.sub("#", d.message), d.fix.description if d.fix else "")


def _key(d: Diagnostic) -> Tuple[str, str, str]:
    # Positions move when lines are inserted above; the message names what the finding is about.
    return (d.path, d.code, _DIGITS.sub("#", d.message))


def _try_batch(
    run: FixRun,
    loaded: Dict[str, LoadedFile],
    result: CheckResult,
    plan: List[Diagnostic],
    settings: Settings,
) -> Optional[Tuple[Dict[str, LoadedFile], CheckResult]]:
    """Every planned fix at once; None if anything fails (then they are tried one by one)."""
    new_data, _ = _apply_fixes(run, plan)
    if new_data is None:
        return None
    outcome = _relint(loaded, new_data, settings, run)
    if _verdict(result, outcome[1], plan) is not None:
        return None
    _commit(run, new_data, plan)
    return outcome


def _try_one_by_one(
    run: FixRun,
    loaded: Dict[str, LoadedFile],
    result: CheckResult,
    plan: List[Diagnostic],
    settings: Settings,
    refused: set,
) -> Optional[Tuple[Dict[str, LoadedFile], CheckResult]]:
    current: Optional[Tuple[Dict[str, LoadedFile], CheckResult]] = None
    for d in plan:
        assert d.fix is not None
        base_loaded, base_result = current if current is not None else (loaded, result)
        # Positions of later fixes refer to the text before this pass: re-find the finding.
        live = _find_again(base_result, d) if current is not None else d
        if live is None or live.fix is None:
            continue  # gone with an earlier fix, or now overlapping: next pass
        data, reason = _apply_fixes(run, [live])
        if data is None:
            _drop(run, live, reason or "the edits could not be applied", refused)
            continue
        outcome = _relint(base_loaded, data, settings, run)
        reason = _verdict(base_result, outcome[1], [live])
        if reason is not None:
            _drop(run, live, reason, refused)
            continue
        _commit(run, data, [live])
        current = outcome
    return current


def _find_again(result: CheckResult, d: Diagnostic) -> Optional[Diagnostic]:
    want = _identity(d)
    for other in result.diagnostics:
        if other.fix is not None and _identity(other) == want:
            return other
    return None


def _drop(run: FixRun, d: Diagnostic, reason: str, refused: set) -> None:
    assert d.fix is not None
    refused.add(_identity(d))
    run.dropped.append(
        FixRecord(
            d.path,
            d.code,
            d.name,
            d.fix.description,
            d.fix.applicability,
            reason,
            _identity(d),
            _paths(d),
            _where(d) if id(d) in run.first_ids else None,
        )
    )


def _commit(run: FixRun, new_data: Dict[str, bytes], fixed: Iterable[Diagnostic]) -> None:
    for path, data in new_data.items():
        run.files[path].data = data
    for d in fixed:
        assert d.fix is not None
        run.applied.append(
            FixRecord(
                d.path,
                d.code,
                d.name,
                d.fix.description,
                d.fix.applicability,
                identity=_identity(d),
                paths=_paths(d),
                where=_where(d) if id(d) in run.first_ids else None,
            )
        )


def _where(d: Diagnostic) -> Tuple[int, int, int]:
    return (d.cell or 0, d.span.line, d.span.column)


def _paths(d: Diagnostic) -> Tuple[str, ...]:
    return tuple(d.fix.paths(d.path)) if d.fix is not None else (d.path,)


def _relint(
    loaded: Dict[str, LoadedFile], new_data: Dict[str, bytes], settings: Settings, run: FixRun
) -> Tuple[Dict[str, LoadedFile], CheckResult]:
    new_loaded = dict(loaded)
    for path, data in new_data.items():
        new_loaded[path] = load_file(path, data)
    return new_loaded, _lint(new_loaded, settings, run)


def _verdict(before: CheckResult, after: CheckResult, fixed: Sequence[Diagnostic]) -> Optional[str]:
    """None when the fixed findings are gone and nothing new is reported; else why not."""
    old = Counter(_key(d) for d in before.diagnostics)
    new = Counter(_key(d) for d in after.diagnostics)
    gone = Counter(_key(d) for d in fixed)
    for key, count in gone.items():
        if new[key] > old[key] - count:
            return f"re-linting still reports {key[1]} after the fix"
    expected = old - gone
    introduced = new - expected
    if introduced:
        key = next(iter(introduced))
        return f"the fix would introduce a new finding: {key[1]} in {key[0]}"
    if after.internal_errors > before.internal_errors:
        return "a rule failed on the fixed file"
    return None


# ---------------------------------------------------------------------------- one file


def _apply_fixes(run: FixRun, diags: Sequence[Diagnostic]) -> Tuple[Optional[Dict[str, bytes]], Optional[str]]:
    """The new bytes of every file the findings' fixes edit, all applied and checked, or
    (None, why not): a fix that edits several files is applied to all of them or to none."""
    by_file: Dict[str, List[Edit]] = {}
    for d in diags:
        assert d.fix is not None
        for e in d.fix.edits:
            by_file.setdefault(e.path or d.path, []).append(e)
    out: Dict[str, bytes] = {}
    for path, edits in by_file.items():
        state = run.files.get(path)
        if state is None:
            return None, f"it edits {printable(path)}, which is not among the files being fixed"
        data, reason = _apply(state, edits)
        if data is None:
            return None, reason if len(by_file) == 1 else f"{printable(path)}: {reason}"
        out[path] = data
    return out, None


def _apply(state: FileState, edits: Sequence[Edit]) -> Tuple[Optional[bytes], Optional[str]]:
    """The file's bytes with `edits` applied and checked, or (None, why not)."""
    try:
        if state.is_notebook:
            return _apply_notebook(state.data, edits), None
        return _apply_python(state.data, edits), None
    except (EditError, SourceError) as exc:
        return None, exc.message


def _apply_python(data: bytes, edits: Sequence[Edit]) -> bytes:
    try:
        source = decode(data)
    except SourceError as exc:
        raise EditError(f"cannot decode the file: {exc.message}") from None
    bom = codecs.BOM_UTF8 if source.bom else b""
    encoding = "utf-8" if source.bom and source.encoding.replace("_", "-").lower() == "utf-8" else source.encoding
    if bom + source.text.encode(encoding, errors="strict") != data:
        raise EditError(f"the file's bytes do not round-trip through {source.encoding}; not rewritten")
    new_text = apply_edits(source.text, edits)
    check_outside_unchanged(source.text, new_text, edits)
    check_parses(source.text, new_text)
    try:
        return bom + new_text.encode(encoding, errors="strict")
    except UnicodeEncodeError:
        raise EditError(f"the fixed text cannot be written in the file's encoding ({source.encoding})") from None


def check_parses(old: str, new: str) -> None:
    """The fixed text must be valid Python wherever the original was (parsing runs nothing)."""
    if _parses(old) and not _parses(new):
        raise EditError("the fixed file would not parse")


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def check_outside_unchanged(old: str, new: str, edits: Sequence[Edit]) -> None:
    """Every character outside the edits' spans is where it was, in order."""
    starts = line_starts(old)
    spans = sorted(
        (position_to_offset(starts, e.line, e.column), position_to_offset(starts, e.end_line, e.end_column), e.content)
        for e in edits
    )
    pos_old = pos_new = 0
    for a, b, content in spans:
        keep = old[pos_old:a]
        if new[pos_new : pos_new + len(keep)] != keep:
            raise EditError("text outside the fix's edits would change")
        pos_new += len(keep) + len(content)
        pos_old = b
    if new[pos_new:] != old[pos_old:]:
        raise EditError("text outside the fix's edits would change")


# ---------------------------------------------------------------------------- notebooks


def _apply_notebook(data: bytes, edits: Sequence[Edit]) -> bytes:
    """Edits (in cell positions) applied to the cells' sources; outputs, metadata, cell ids
    and the JSON layout are kept."""
    from trainlint.notebook import notebook_source

    try:
        nb = json.loads(data)
        raw = data.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EditError("the notebook is not valid UTF-8 JSON") from None
    layout = _json_layout(nb, raw)
    if layout is None:
        raise EditError("the notebook's JSON layout cannot be reproduced; not rewritten")
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise EditError("only nbformat 4 notebooks (a top-level `cells` list) are rewritten")
    program, line_map = notebook_source(data)
    where = _inverse_map(program, line_map)
    prog_starts = line_starts(program)
    by_cell: Dict[int, List[Edit]] = {}
    for e in edits:
        if e.cell is None or not 1 <= e.cell <= len(cells):
            raise EditError("an edit names no notebook cell")
        by_cell.setdefault(e.cell, []).append(e)
    for index, cell_edits in by_cell.items():
        cell = cells[index - 1]
        source = cell.get("source")
        text = "".join(source) if isinstance(source, list) else source
        if not isinstance(text, str):
            raise EditError(f"cell {index} has no text source")
        starts = line_starts(text)
        nl = "\r\n" if "\r\n" in text else "\n"
        local: List[Edit] = []
        for e in cell_edits:
            _same_lines(program, prog_starts, where, text, starts, index, e)
            local.append(Edit(e.line, e.column, e.end_line, e.end_column, e.content.replace("\n", nl)))
        new_text = apply_edits(text, local)
        check_outside_unchanged(text, new_text, local)
        cell["source"] = _NB_LINES.findall(new_text) if isinstance(source, list) else new_text
    new_program, _ = notebook_source(_dump(nb, layout).encode("utf-8"))
    check_parses(program, new_program)
    return _dump(nb, layout).encode("utf-8")


def _inverse_map(program: str, line_map: Any) -> Dict[Tuple[int, int], int]:
    out: Dict[Tuple[int, int], int] = {}
    for line in range(1, program.count("\n") + 2):
        cell, in_cell = line_map(line)
        if cell is not None:
            out.setdefault((cell, in_cell), line)
    return out


def _same_lines(
    program: str,
    prog_starts: List[int],
    where: Dict[Tuple[int, int], int],
    text: str,
    starts: List[int],
    cell: int,
    e: Edit,
) -> None:
    """The lines an edit touches must read the same in the program and in the cell (IPython
    magics are replaced by `pass` in the program: an edit over them would lose them)."""
    for line in range(e.line, e.end_line + 1):
        prog_line = where.get((cell, line))
        if prog_line is None or line > len(starts):
            raise EditError(f"an edit falls outside cell {cell}")
        a = prog_starts[prog_line - 1]
        b = prog_starts[prog_line] if prog_line < len(prog_starts) else len(program)
        c = starts[line - 1]
        d = starts[line] if line < len(starts) else len(text)
        if program[a:b].rstrip("\r\n") != text[c:d].rstrip("\r\n"):
            raise EditError(f"cell {cell}, line {line} is IPython syntax; it is not rewritten")


_LAYOUTS: List[Dict[str, Any]] = [
    {"indent": indent, "ensure_ascii": ascii_only, "sort_keys": sort}
    for indent in (1, 2, 4, None, "\t", 3)
    for sort in (True, False)
    for ascii_only in (False, True)
]


def _json_layout(nb: Any, raw: str) -> Optional[Dict[str, Any]]:
    for layout in _LAYOUTS:
        out = json.dumps(nb, **layout)
        if raw == out or raw == out + "\n":
            return {**layout, "newline": raw.endswith("\n")}
    return None


def _dump(nb: Any, layout: Dict[str, Any]) -> str:
    opts = {k: v for k, v in layout.items() if k != "newline"}
    return json.dumps(nb, **opts) + ("\n" if layout["newline"] else "")


# ---------------------------------------------------------------------------- output


def write_changes(run: FixRun) -> List[str]:
    """Write every changed file; returns warnings for files left untouched. Files that one
    fix edits together are written together: if one of them changed on disk since it was
    read, none of them is written."""
    warnings: List[str] = []
    held = {s.path for s in run.changed_files() if _changed_on_disk(s)}
    grown = True
    while grown:
        grown = False
        for rec in run.applied:
            if len(rec.paths) > 1 and held.intersection(rec.paths) and not held.issuperset(rec.paths):
                held.update(rec.paths)
                grown = True
    for state in run.changed_files():
        if state.path in held:
            why = (
                "changed on disk while fixing" if _changed_on_disk(state) else "fixed with a file that changed on disk"
            )
            warnings.append(f"{state.path}: {why}; not written")
            continue
        problem = write_atomic(state)
        if problem is not None:
            warnings.append(problem)
    return warnings


def _changed_on_disk(state: FileState) -> bool:
    try:
        target = os.path.realpath(state.path)
        st = os.stat(target)
        on_disk = read_bytes(target)
    except (OSError, SourceError):
        return False  # `write_atomic` reports why it cannot write
    if state.mtime_ns is not None and (st.st_mtime_ns, st.st_size) != (state.mtime_ns, state.size):
        return True
    return on_disk != state.original


def write_atomic(state: FileState) -> Optional[str]:
    """Replace the file with `state.data` unless it changed on disk since it was read."""
    target = os.path.realpath(state.path)  # through a symlink, rewrite what it points to
    try:
        st = os.stat(target)
    except OSError as exc:
        return f"{state.path}: not written: {exc.strerror or exc}"
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix=".trainlint-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(state.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        # Last look before replacing: someone may have saved the file while we worked.
        st_now = os.stat(target)
        on_disk = read_bytes(target)
        if on_disk != state.original or (
            state.mtime_ns is not None and (st_now.st_mtime_ns, st_now.st_size) != (state.mtime_ns, state.size)
        ):
            os.unlink(tmp)
            return f"{state.path}: changed on disk while fixing; not written"
        os.replace(tmp, target)
    except (OSError, SourceError) as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        why = exc.message if isinstance(exc, SourceError) else exc.strerror or exc
        return f"{state.path}: not written: {why}"
    return None


def unified_diff(run: FixRun) -> str:
    out: List[str] = []
    for state in sorted(run.changed_files(), key=lambda s: s.path):
        old, new = _text_for_diff(state.original), _text_for_diff(state.data)
        out.extend(
            difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), f"a/{printable(state.path)}", f"b/{printable(state.path)}"
            )
        )
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += "\n\\ No newline at end of file\n"
    return "".join(out)


def _text_for_diff(data: bytes) -> str:
    try:
        return decode(data).text
    except SourceError:
        return data.decode("utf-8", errors="replace")


def describe_applied(run: FixRun) -> List[str]:
    """`--show-fixes`: per file, how many findings of each rule were fixed."""
    lines: List[str] = []
    by_file: Dict[str, Counter] = {}
    for rec in run.applied:
        by_file.setdefault(rec.path, Counter())[(rec.code, rec.name)] += 1
    total = len(run.applied)
    if not total:
        return ["No fixes applied."]
    lines.append(f"Applied {total} fix{'es' if total != 1 else ''}:")
    for path in sorted(by_file):
        lines.append(f"- {path}:")
        for (code, name), n in sorted(by_file[path].items()):
            lines.append(f"    {n} × {code} ({name})")
    return lines
