"""files -> parse once -> facts -> rules -> suppressions -> diagnostics."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import gc
import os
import re
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable, Collection, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst import CSTNode
from libcst.metadata import CodeRange

from trainlint import registry, suppressions
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, build_facts
from trainlint.analysis.loops import LoopAnalyzer
from trainlint.analysis.names import dotted
from trainlint.analysis.positions import positions
from trainlint.analysis.project import Project, module_name_for
from trainlint.analysis.purpose import UNIT_TEST_DIRS, is_test_code, written_for_another_framework
from trainlint.analysis.scopes import scope_of_node
from trainlint.analysis.symbols import Resolver
from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic, Edit, Fix, Related, Severity, Span
from trainlint.registry import tool_diagnostic
from trainlint.rules import Finding, RuleContext, load_rules
from trainlint.source import (
    Dedent,
    SourceError,
    SourceText,
    complexity_problem,
    decode,
    dedent_excerpt,
    read_bytes,
)
from trainlint.timing import Timings


@dataclass
class LoadedFile:
    path: str
    source: Optional[SourceText] = None
    facts: Optional[ModuleFacts] = None
    error: Optional[Diagnostic] = None
    # Notebook files map program lines back to (cell, line-in-cell).
    line_map: Optional[Callable[[int], Tuple[Optional[int], int]]] = None
    # An indented excerpt (the file, or notebook cells) parsed without its indentation.
    dedent: Optional[Dedent] = None


# ---------------------------------------------------------------------------- loading


class _Marks:
    """Adds the time since the previous mark to a phase (no-op without timings)."""

    __slots__ = ("timings", "last")

    def __init__(self, timings: Optional[Timings]) -> None:
        self.timings = timings
        self.last = time.perf_counter() if timings is not None else 0.0

    def __call__(self, phase: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings.add(phase, now - self.last)
            self.last = now


def load_file(
    path: str, data: Optional[bytes] = None, timings: Optional[Timings] = None, tree: Optional[cst.Module] = None
) -> LoadedFile:
    """Read, decode, parse and build the facts of one file; any problem becomes the file's
    TL001. `tree`: the file's syntax tree, parsed by a worker process (see `parse_tree`)."""
    assert tree is None or data is not None, "a tree comes with the bytes it was parsed from"
    lf = LoadedFile(path=path)
    mark = _Marks(timings)
    # A worker's tree passed the nesting guard there, for the same bytes.
    text = _source_text(lf, data, guard=tree is None)
    if text is None:
        return lf
    text = _without_excerpt_indent(lf, text)
    mark("read")
    if tree is None:
        try:
            tree = parse_module(text)
        except cst.ParserSyntaxError as exc:
            message, raw_line, col = _syntax_error_details(text, exc)
            if lf.dedent is not None:
                col = lf.dedent.column(raw_line, col)
            cell, line = _map_line(lf, raw_line)
            lf.error = tool_diagnostic("TL001", path, f"syntax error: {message}", line, col)
            lf.error.cell = cell
            return lf
        except _PARSER_FAILURES as exc:
            lf.error = tool_diagnostic("TL001", path, f"cannot parse file: {type(exc).__name__}: {exc}"[:300])
            return lf
        mark("parse")
    try:
        lf.facts = build_facts(path, module_name_for(path), text, tree)
    except RecursionError:  # deeper than the complexity guard's estimate allowed for
        lf.error = tool_diagnostic("TL001", path, "code nested too deeply to analyse; not analysed")
    mark("facts")
    return lf


# What libcst's parser raises besides syntax errors, on input it cannot handle.
_PARSER_FAILURES = (RecursionError, MemoryError, ValueError, TypeError)


def parse_tree(path: str, data: bytes) -> Optional[cst.Module]:
    """The syntax tree `load_file(path, data)` would parse (a notebook's code cells joined);
    None where it would report a problem instead (the caller then loads that file itself,
    problem and all)."""
    lf = LoadedFile(path=path)
    text = _source_text(lf, data)
    if text is None:
        return None
    try:
        return parse_module(_without_excerpt_indent(lf, text))
    except (cst.ParserSyntaxError, *_PARSER_FAILURES):
        return None


def _source_text(lf: LoadedFile, data: Optional[bytes], guard: bool = True) -> Optional[str]:
    """The text to parse (a notebook's code cells joined), or None with `lf.error` set."""
    path = lf.path
    if data is None:
        try:
            data = read_bytes(path)
        except IsADirectoryError:
            lf.error = tool_diagnostic("TL001", path, "is a directory, not a Python file")
            return None
        except OSError as exc:
            lf.error = tool_diagnostic("TL001", path, f"cannot read file: {exc.strerror or exc}")
            return None
        except SourceError as exc:
            lf.error = tool_diagnostic("TL001", path, exc.message)
            return None
    if path.endswith(".ipynb"):
        try:
            from trainlint.notebook import notebook_source
        except ImportError:
            lf.error = tool_diagnostic("TL001", path, "notebooks are not supported by this build")
            return None
        try:
            text, line_map = notebook_source(data)
        except SourceError as exc:
            lf.error = tool_diagnostic("TL001", path, exc.message, exc.line, exc.column)
            return None
        lf.line_map = line_map
        lf.source = SourceText(text=text, encoding="utf-8", bom=False, newline="\n")
    else:
        try:
            lf.source = decode(data)
        except SourceError as exc:
            lf.error = tool_diagnostic("TL001", path, exc.message, exc.line, exc.column)
            return None
    problem = complexity_problem(lf.source.text) if guard else None
    if problem is not None:
        cell, line = _map_line(lf, problem[1])
        lf.error = tool_diagnostic("TL001", path, problem[0], line, 1)
        lf.error.cell = cell
        return None
    return lf.source.text


def _without_excerpt_indent(lf: LoadedFile, text: str) -> str:
    """The text to parse: an indented excerpt (the file, or each notebook cell) without its
    indentation (`source.dedent_excerpt`; `lf.dedent` then maps positions back). Decided from
    the text alone, so a worker's tree and the main process's text always agree."""
    region = None
    if lf.line_map is not None:
        line_map = lf.line_map
        region = lambda line: line_map(line)[0]  # noqa: E731
    lf.dedent = dedent_excerpt(text, region)
    return lf.dedent.text if lf.dedent is not None else text


_HOOK = "__post_init__"
_POST_INIT = getattr(CSTNode, _HOOK, None)
# libcst's node constructor only validates the node (`self._validate()`), checks meant for
# trees built by hand; the parser's nodes are valid by construction, and validating them
# costs over a tenth of a parse. Only when the constructor is exactly that (this libcst) is
# the check skipped, and only for nodes built by the parsing thread.
_SKIP_VALIDATION = _POST_INIT is not None and getattr(getattr(_POST_INIT, "__code__", None), "co_names", None) == (
    "_validate",
)
_parsing_threads: Set[int] = set()
_patch_lock = threading.Lock()


def _validate_unless_parsing(node: CSTNode) -> None:
    if threading.get_ident() not in _parsing_threads:
        node._validate()


def parse_module(text: str) -> cst.Module:
    """`libcst.parse_module(text)`, without validating the nodes the parser builds."""
    if not _SKIP_VALIDATION:
        return cst.parse_module(text)
    if threading.active_count() == 1:
        # Alone, the parsing thread is the only one that can build nodes until the parse
        # returns (only it could start another thread), so the hook can be a call that does
        # nothing and costs no Python frame: `tuple()`, looked up unbound on the class.
        with _patch_lock:
            if not _parsing_threads:
                setattr(CSTNode, _HOOK, tuple)
                try:
                    return cst.parse_module(text)
                finally:
                    setattr(CSTNode, _HOOK, _POST_INIT)
    me = threading.get_ident()
    with _patch_lock:
        _parsing_threads.add(me)
        setattr(CSTNode, _HOOK, _validate_unless_parsing)
    try:
        return cst.parse_module(text)
    finally:
        with _patch_lock:
            _parsing_threads.discard(me)
            if not _parsing_threads:
                setattr(CSTNode, _HOOK, _POST_INIT)


def _syntax_error_details(text: str, exc: cst.ParserSyntaxError) -> Tuple[str, int, int]:
    """Python's own message and position where it has one (compiling never runs the code)."""
    try:
        ast.parse(text)
    except SyntaxError as err:
        if err.lineno:
            return (err.msg or exc.message, err.lineno, max(1, err.offset or 1))
    except (RecursionError, MemoryError, ValueError):
        pass
    return exc.message, exc.raw_line, exc.raw_column + 1


def _map_line(lf: LoadedFile, line: int) -> Tuple[Optional[int], int]:
    if lf.line_map is None:
        return None, line
    return lf.line_map(line)


# ---------------------------------------------------------------------------- checking


class _Positions:
    """Positions of reported nodes; only the statements that hold them are positioned
    (see `analysis/positions.py`), so a module with no finding costs nothing here."""

    def of(self, module: ModuleFacts, node: cst.CSTNode) -> CodeRange:
        return positions(module).of(node)

    def statement_lines(self, module: ModuleFacts, node: cst.CSTNode) -> Tuple[int, int]:
        """First and last line of the innermost statement holding `node`."""
        return positions(module).statement_lines(node)


# Progress callback: (stage, files done, total files); stage is "reading" or "checking".
Progress = Callable[[str, int, int], None]


# Components of at least this many modules drop each module's scope indexes once its rules
# have run: a little recomputation for a peak memory that no longer holds every index.
RELEASE_INDEXES_FROM = 100


def _out_of_scope(f: Finding) -> bool:
    """A finding in unit tests or their helpers (`tests/`, `test_*.py`, a `TestCase`): that code
    checks the library, it trains nothing (models with constant weights, unshuffled fixtures).
    Or in a module written for another framework (a MegEngine port of the PyTorch demo)."""
    if written_for_another_framework(f.module):
        return True
    scope = scope_of_node(f.module, f.node) or (f.module.scopes[0] if f.module.scopes else None)
    return scope is not None and is_test_code(scope, UNIT_TEST_DIRS)


def _run_rules(
    loaded: List[LoadedFile],
    rules: Dict[str, Callable[[RuleContext], Iterable[Finding]]],
    options: Dict[str, Dict[str, object]],
    asked: Callable[[str], bool],
    result: CheckResult,
    progress: Optional[Progress],
    timings: Optional[Timings],
    mark: _Marks,
) -> List[Diagnostic]:
    """Every enabled rule on every loaded file, as one project; the files' own problems
    (TL001) and the rules' failures (TL002, counted in `result`) included."""
    modules = [lf.facts for lf in loaded if lf.facts is not None]
    by_module = {id(lf.facts): lf for lf in loaded if lf.facts is not None}
    by_path = {f.path: f for f in by_module.values()}
    release = len(modules) >= RELEASE_INDEXES_FROM
    project = Project(modules)
    resolver = Resolver(project)
    loops = LoopAnalyzer(resolver)
    positions = _Positions()
    raw: List[Diagnostic] = []
    mark("facts")
    for done, lf in enumerate(loaded):
        if progress is not None:
            progress("checking", done, len(loaded))
        if lf.error is not None:
            if asked(lf.path):
                raw.append(lf.error)
            continue
        assert lf.facts is not None
        for code, opts in options.items():
            ctx = RuleContext(lf.facts, project, resolver, loops, opts)
            try:
                findings = [f for f in rules[code](ctx) if not _out_of_scope(f)]
                if timings is not None:
                    now = time.perf_counter()
                    timings.add_rule(code, now - mark.last)
                    mark("rules")
                # Placing a finding can fail too (a node outside its module's tree): that is
                # the rule's defect as well, and must not stop the run.
                placed = [_to_diagnostic(f, positions, by_module, by_path) for f in findings]
            except Exception as exc:  # a rule's defect must not hide the other rules' findings
                if not asked(lf.path):
                    continue
                result.internal_errors += 1
                where = traceback.extract_tb(exc.__traceback__)[-1]
                raw.append(
                    tool_diagnostic(
                        "TL002",
                        lf.path,
                        f"rule {code} ({registry.RULES[code].name}) failed on this file: "
                        f"{type(exc).__name__}: {exc} (at {os.path.basename(where.filename)}:{where.lineno}); "
                        "please report this bug",
                    )
                )
                continue
            raw.extend(placed)
            mark("positions")
        if release:
            # Done with this module's own rules: its scopes' indexes are rebuilt on demand when
            # another module asks about them, instead of being kept for the whole component.
            lf.facts.forget(SC.scope_index)
    return raw


# ---------------------------------------------------------------------------- fragments
#
# A pasted snippet or a lone notebook cell often uses the conventional names of PyTorch code
# without importing them. Where a file uses one of these names and binds it nowhere (no
# import, assignment, parameter, definition, `except ... as`, nor a `*` import that could),
# the name is taken to mean the usual module; the findings that only this assumption gives
# are reported as guesses, one severity lower, saying what was assumed.

CONVENTIONAL_NAMES = {"torch": "torch", "nn": "torch.nn", "F": "torch.nn.functional", "optim": "torch.optim"}
_BARE_NAME = {name: re.compile(rf"(?<![\w.]){name}\b") for name in CONVENTIONAL_NAMES}


def conventional_names(facts: ModuleFacts) -> Dict[str, str]:
    """The conventional names `facts`' module uses without binding them, with what they are
    assumed to be. The text is read with Python's own parser (which runs nothing) only when
    one of the names appears unimported in it."""
    candidates = [n for n in CONVENTIONAL_NAMES if n not in facts.imports.alias and _BARE_NAME[n].search(facts.text)]
    if candidates:
        # The rules read these names only in calls and class bases (`nn.Linear(...)`,
        # `class Net(nn.Module)`): a name met only in prose, a docstring or an annotation
        # assumes nothing. Both are in the facts already, so most files need no second parse.
        roots = [c.func for scope in facts.scopes for c in scope.calls]
        roots += [b for cls in facts.classes.values() for b in cls.bases]  # `class Net(nn.Module)`
        called = {(dotted(e) or "").split(".")[0] for e in roots}
        candidates = [n for n in candidates if n in called]
    if not candidates:
        return {}
    try:
        tree = ast.parse(facts.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    used: Set[str] = set()
    bound: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return {}  # it may bind any of them
                bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif not isinstance(node, ast.alias):
            name = getattr(node, "name", None)  # except ... as, match captures, type parameters
            if isinstance(name, str):
                bound.add(name)
            rest = getattr(node, "rest", None)  # match {**rest}
            if isinstance(rest, str):
                bound.add(rest)
    return {n: CONVENTIONAL_NAMES[n] for n in candidates if n in used and n not in bound}


def _assume_conventional_names(loaded: Sequence[LoadedFile]) -> Dict[str, Dict[str, str]]:
    """Set the assumed names on each module's import table; per path, what was assumed."""
    out: Dict[str, Dict[str, str]] = {}
    for lf in loaded:
        if lf.facts is None:
            continue
        names = conventional_names(lf.facts)
        lf.facts.imports.assumed = dict(names)
        if names:
            out[lf.path] = names
    return out


def _without_assumptions(lf: LoadedFile) -> LoadedFile:
    """`lf` with fresh facts of the same tree and no assumed name."""
    if lf.facts is None:
        return lf
    f = lf.facts
    return LoadedFile(
        lf.path, lf.source, build_facts(f.path, f.module_name, f.text, f.tree), lf.error, lf.line_map, lf.dedent
    )


_LOWER = {Severity.ERROR: Severity.WARNING, Severity.WARNING: Severity.INFO, Severity.INFO: Severity.INFO}


def _mark_guess(d: Diagnostic, assumed: Dict[str, Dict[str, str]]) -> None:
    d.guess = True
    d.severity = _LOWER[d.severity]
    d.message = d.message.rstrip() + _assumption_note(d, assumed)


def _assumption_note(d: Diagnostic, assumed: Dict[str, Dict[str, str]]) -> str:
    def said(names: Dict[str, str]) -> str:
        parts = [f"`{n}` is PyTorch" if n == full else f"`{n}` is `{full}`" for n, full in sorted(names.items())]
        return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]

    mine = assumed.get(d.path)
    if mine:
        pronoun = "it" if len(mine) == 1 else "them"
        return f" (assuming {said(mine)}: this file does not import {pronoun})"
    others = [f"{said(names)} in {path}" for path, names in sorted(assumed.items())]
    return f" (assuming {'; '.join(others)}, where it is not imported)"


def check_files(
    loaded: List[LoadedFile],
    settings: Settings,
    progress: Optional[Progress] = None,
    timings: Optional[Timings] = None,
    report: Optional[Collection[str]] = None,
) -> CheckResult:
    """Check `loaded` as one project. `report`: the paths reported on (None: all); the other
    files are context (see `context.py`): analysed with the others, rules included (a rule
    run on one module can report in another), but their syntax errors and rule failures are
    left out, and so are their findings unless one points into a reported file."""
    mark = _Marks(timings)
    rules = load_rules()
    enabled = settings.enabled_codes()
    reported = None if report is None else set(report)

    def asked(path: str) -> bool:
        return reported is None or path in reported

    result = CheckResult(files=sum(1 for lf in loaded if asked(lf.path)))
    # Options are looked up once per run, not once per file and rule.
    options = {code: settings.rule_options(code) for code in sorted(rules) if code in enabled}
    assumed = _assume_conventional_names(loaded)
    mark("facts")
    raw = _run_rules(loaded, rules, options, asked, result, progress, timings, mark)
    if assumed and any(registry.RULES[d.code].kind != "tool" for d in raw):
        # Which findings rest on an assumed name: those that a run without the assumptions
        # (fresh facts over the same trees) does not report.
        plain = [_without_assumptions(lf) for lf in loaded]
        mark("facts")
        without = _run_rules(plain, rules, options, asked, CheckResult(), None, timings, mark)
        known = {(d.code, d.path, d.cell, d.span) for d in without}
        for d in raw:
            if registry.RULES[d.code].kind != "tool" and (d.code, d.path, d.cell, d.span) not in known:
                _mark_guess(d, assumed)

    seen = set()
    sup_cache: Dict[str, suppressions.Suppressions] = {}
    text_of = {lf.path: lf.source.text for lf in loaded if lf.source is not None}
    for d in sorted(raw, key=Diagnostic.sort_key):
        key = (d.code, d.path, d.cell, d.span)
        if key in seen:
            continue
        if not asked(d.path):
            # A finding in a context file that points into a checked one (a softmax in the
            # checked models.py fed to a loss in train.py) concerns the checked file too: it
            # is reported, so that a file has the findings that touch it however it is
            # selected. A context file is never edited: the finding keeps its fix only if
            # the fix edits checked files alone (the softmax dropped in models.py).
            if not any(asked(r.path) for r in d.related):
                continue
            if d.fix is not None and not all(asked(p) for p in d.fix.paths(d.path)):
                d.fix = None
        seen.add(key)
        if d.code != "TL002" and d.code in settings.ignored_for(d.path):
            continue
        if d.code not in enabled and d.code not in ("TL002",) and registry.RULES[d.code].kind != "tool":
            continue
        if d.code == "TL001" and "TL001" not in enabled:
            continue
        text = text_of.get(d.path)
        if text is not None and d.code != "TL002":
            if d.path not in sup_cache:
                sup_cache[d.path] = suppressions.parse(text)
            first, last = d.statement_lines or (None, None)
            if sup_cache[d.path].suppresses(d.code, d.program_line or d.span.line, first, last):
                result.suppressed.append(d)
                continue
        result.diagnostics.append(d)
    mark("suppressions")
    return result


def _to_diagnostic(
    f: Finding, positions: _Positions, by_module: Dict[int, LoadedFile], by_path: Dict[str, LoadedFile]
) -> Diagnostic:
    info = registry.RULES[f.code]
    r = positions.of(f.module, f.node)
    first, last = positions.statement_lines(f.module, f.node)
    lf = by_module.get(id(f.module))
    span = Span(
        r.start.line,
        _column(lf, r.start.line, r.start.column + 1),
        r.end.line,
        _column(lf, r.end.line, r.end.column + 1),
    )
    related = []
    for mod, node, msg in f.related:
        rr = positions.of(mod, node)
        rel_lf = by_module.get(id(mod))
        cell, line = _map_line(rel_lf, rr.start.line) if rel_lf else (None, rr.start.line)
        related.append(Related(mod.path, line, _column(rel_lf, rr.start.line, rr.start.column + 1), msg, cell))
    d = Diagnostic(
        code=f.code,
        name=info.name,
        severity=f.severity or info.severity,
        message=f.message,
        path=f.module.path,
        span=span,
        related=related,
        fix=_build_fix(f, positions, by_path),
        program_line=span.line,
        statement_lines=(first, last),
    )
    if lf is not None and lf.line_map is not None:
        cell, line = lf.line_map(span.line)
        cell_end, end_line = lf.line_map(span.end_line)
        d.cell = cell
        d.span = Span(line, span.column, end_line if cell_end == cell else line, span.end_column)
    return d


def _build_fix(f: Finding, positions: _Positions, by_path: Dict[str, LoadedFile]) -> Optional[Fix]:
    """The finding's fix in each edited file's own positions (cells for a notebook), with
    the file named on every edit."""
    fix = f.fix
    if fix is None and f.fix_builder is not None:
        try:
            fix = f.fix_builder(positions.of)
        except Exception:  # a fix that cannot be built is not offered; the finding stands
            fix = None
    if fix is None:
        return None
    own = f.module.path
    edits: List[Edit] = []
    for path in fix.paths(own):
        lf = by_path.get(path)
        if lf is None:
            return None  # a file the run did not load: its text is unknown
        part = Fix(fix.applicability, fix.description, [e for e in fix.edits if (e.path or own) == path])
        if lf.dedent is not None:
            part = _reindented(part, lf.dedent)
        if lf.line_map is not None and lf.source is not None:
            from trainlint.fixes.core import to_cells

            in_cells = to_cells(part, lf.line_map, lf.source.text)
            if in_cells is None:
                return None  # an edit would cross cells
            part = in_cells
        edits.extend(dataclasses.replace(e, path=path) for e in part.edits)
    return Fix(fix.applicability, fix.description, edits)


def _column(lf: Optional[LoadedFile], line: int, column: int) -> int:
    """A column of the parsed text as a column of the file (an excerpt lost its indentation)."""
    return column if lf is None or lf.dedent is None else lf.dedent.column(line, column)


_NEWLINE_THEN_TEXT = re.compile(r"(\r\n|\r|\n)(?=[^\r\n])")


def _reindented(fix: Fix, dedent: Dedent) -> Fix:
    """A fix of an excerpt parsed without its indentation, in the file's own positions: the
    columns get the removed indentation back, and so do the lines the edits insert."""
    edits = []
    for e in fix.edits:
        content = e.content
        prefix = dedent.indent.get(e.line, "")
        if prefix:
            content = _NEWLINE_THEN_TEXT.sub(r"\g<1>" + prefix.replace("\\", "\\\\"), content)
            if e.column == 1 and content[:1] not in ("", "\n", "\r"):
                content = prefix[dedent.removed.get(e.line, 0) :] + content  # a short blank line
            if content.endswith(("\n", "\r")):
                content += prefix  # what follows the edit starts a line of the excerpt
        edits.append(
            Edit(
                e.line,
                dedent.column(e.line, e.column),
                e.end_line,
                dedent.column(e.end_line, e.end_column),
                content,
                cell=e.cell,
                path=e.path,
            )
        )
    return Fix(fix.applicability, fix.description, edits)


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Syntax trees are many small objects that all stay alive until the run ends; the cyclic
    collector's default thresholds would rescan them over and over."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def check_sources(sources: Dict[str, str], settings: Settings) -> CheckResult:
    """Lint in-memory sources (tests, the editor server): path -> text."""
    loaded = [load_file(p, t.encode("utf-8")) for p, t in sources.items()]
    return check_files(loaded, settings)
