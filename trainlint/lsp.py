"""trainlint as a language server (stdio): diagnostics, quick fixes, `# noqa` actions, hover.

A document is linted from its in-memory text when it is opened or saved, and 0.3 s after the
last edit. The project files linked to it by imports are analysed with it, as `check` does
(`plan.py`; open documents by their unsaved text), so a model defined in `models.py` is known
while `train.py` is edited; only the document's own findings are published. Settings come
from the configuration file found from the document's folder, as on the command line. Only
open documents are remembered.
"""

from __future__ import annotations

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from lsprotocol import types as lsp
from pygls.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path, uri_scheme
from pygls.workspace import TextDocument

from trainlint import __version__, registry
from trainlint.config import ConfigError, Settings, load_settings
from trainlint.diagnostics import Diagnostic, Edit, Severity
from trainlint.engine import check_files, load_file
from trainlint.fixes.apply import fix_sources, fixable_files, keep_verified_fixes
from trainlint.plan import make_plan

DEBOUNCE_S = 0.3
_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
}
_NOQA_CODES = re.compile(r"#\s*noqa:\s*[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*", re.IGNORECASE)
_BARE_NOQA = re.compile(r"#\s*noqa(?!:)", re.IGNORECASE)


@dataclass
class Published:
    """What was last published for a document, kept to answer code actions and hovers."""

    version: Optional[int]
    findings: List[Tuple[Diagnostic, lsp.Diagnostic]]


# ---------------------------------------------------------------------------- linting (no pygls)


def lint_text(path: str, text: str, open_texts: Dict[str, str]) -> Tuple[List[Diagnostic], Optional[str]]:
    """The findings of one document, and the configuration error (if any) that was worked around."""
    folder = os.path.dirname(os.path.abspath(path))
    config_error: Optional[str] = None
    try:
        settings = load_settings(start=folder)
    except ConfigError as exc:
        config_error = str(exc)
        settings = Settings(root=folder)
    if settings.is_excluded(path) or path.endswith(".ipynb"):
        # A notebook's findings are placed by cell; its raw JSON text has no such positions.
        return [], config_error
    # The project plan, as `check` makes it (`plan.py`): the document's group, with the
    # editor's unsaved text of any open context file.
    overrides = {p: t.encode("utf-8") for p, t in open_texts.items() if p != path}
    plan = make_plan([path], [text.encode("utf-8")], settings, overrides=_by_display(overrides), reuse_reads=True)
    group = next(plan.tasks(), None)
    if group is None:
        return [], config_error
    result = check_files(
        [load_file(p, d) if d is not None else load_file(p) for p, d in zip(group.paths, group.data)], settings
    )
    result.diagnostics = [d for d in result.diagnostics if d.path == path]
    if fixable_files(result):  # quick fixes only for what the fixer's own checks accept
        context = {p: d for p, d in zip(group.paths, group.data) if p != path and d is not None}
        fixer = fix_sources({path: text}, settings, unsafe=True, context=context, edit_context=True)
        keep_verified_fixes(result, fixer)
    return result.diagnostics, config_error


def _by_display(texts: Dict[str, bytes]) -> Dict[str, bytes]:
    """Open texts keyed by every name the plan may give the file (as given, relative)."""
    out = dict(texts)
    for p, data in texts.items():
        try:
            out.setdefault(os.path.relpath(p), data)
        except ValueError:  # another drive
            pass
    return out


def noqa_edit(d: Diagnostic, lines: List[str]) -> Optional[Edit]:
    """An edit adding `# noqa: CODE` where the engine looks for it (the statement's last line)."""
    if registry.RULES[d.code].kind == "tool":
        return None  # suppressing a syntax or internal error hides the problem, not a false alarm
    line_no = d.statement_lines[1] if d.statement_lines else d.span.line
    if not 1 <= line_no <= len(lines):
        return None
    line = lines[line_no - 1].rstrip("\r\n")
    if _BARE_NOQA.search(line):
        return None
    m = _NOQA_CODES.search(line)
    if m is not None:
        return Edit(line_no, m.end() + 1, line_no, m.end() + 1, f", {d.code}")
    end = len(line.rstrip())
    return Edit(line_no, end + 1, line_no, len(line) + 1, f"  # noqa: {d.code}")


def page_uri(code: str) -> Optional[str]:
    from trainlint.pages import page_paths

    path = page_paths().get(code)
    return Path(path).as_uri() if path else None


def hover_markdown(d: Diagnostic) -> str:
    info = registry.RULES[d.code]
    parts = [f"**{info.code} {info.name}** ({d.severity.value}) — {info.summary}"]
    link = page_uri(d.code)
    more = f"`trainlint explain {info.code}`"
    parts.append(f"[Rule page]({link}) · {more}" if link else more)
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------- the server


class TrainlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("trainlint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.pending: Dict[str, asyncio.Task[None]] = {}
        self.published: Dict[str, Published] = {}
        # One worker: lints run one at a time, off the loop that reads the client's messages.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trainlint-lint")
        self.last_config_error: Optional[str] = None

    def schedule(self, uri: str, delay: float) -> None:
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        task = asyncio.get_running_loop().create_task(self._lint_later(uri, delay))
        self.pending[uri] = task
        task.add_done_callback(lambda t: self.pending.pop(uri, None) if self.pending.get(uri) is t else None)

    def forget(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.published.pop(uri, None)
        self.publish_diagnostics(uri, [])

    async def _lint_later(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        doc = self.workspace.get_text_document(uri)
        version, text = doc.version, doc.source
        path = _path_of(uri)
        open_texts = self._open_texts()
        loop = asyncio.get_running_loop()
        try:
            found, config_error = await loop.run_in_executor(self.worker, lint_text, path, text, open_texts)
        except Exception as exc:  # a defect of trainlint must not take the editor's server down
            self.show_message_log(f"trainlint: internal error while linting {path}: {type(exc).__name__}: {exc}")
            return
        if config_error and config_error != self.last_config_error:
            self.show_message(f"trainlint: {config_error} (using the default settings)", lsp.MessageType.Warning)
        self.last_config_error = config_error
        current = self.workspace.text_documents.get(uri)
        if current is None or current.version != version:
            return  # closed or edited meanwhile: a newer lint is (or was) scheduled
        pairs = [(d, to_lsp(d, current, uri)) for d in found]
        self.published[uri] = Published(version, pairs)
        self.publish_diagnostics(uri, [p[1] for p in pairs], version=version)

    def _open_texts(self) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for uri, doc in self.workspace.text_documents.items():
            if uri_scheme(uri) == "file":
                out[_path_of(uri)] = doc.source
        return out

    def current(self, uri: str) -> Optional[Tuple[TextDocument, Published]]:
        """The document and its findings, only while they describe the same text."""
        pub = self.published.get(uri)
        doc = self.workspace.text_documents.get(uri)
        if pub is None or doc is None or doc.version != pub.version:
            return None
        return doc, pub


def _path_of(uri: str) -> str:
    if uri_scheme(uri) == "file":
        path = to_fs_path(uri)
        if path:
            return path
    # An unsaved buffer: lint it as a file in the current folder so settings still apply.
    name = uri.rstrip("/").rsplit("/", 1)[-1] or "untitled"
    return os.path.join(os.getcwd(), name if name.endswith(".py") else name + ".py")


def _range(doc: TextDocument, line: int, column: int, end_line: int, end_column: int) -> lsp.Range:
    """1-based code-point positions -> the client's 0-based units."""
    rng = lsp.Range(
        start=lsp.Position(line=max(line - 1, 0), character=max(column - 1, 0)),
        end=lsp.Position(line=max(end_line - 1, 0), character=max(end_column - 1, 0)),
    )
    return doc.position_codec.range_to_client_units(doc.lines, rng)


def to_lsp(d: Diagnostic, doc: TextDocument, uri: str) -> lsp.Diagnostic:
    s = d.span
    related = []
    for r in d.related:
        rel_uri = from_fs_path(os.path.abspath(r.path)) if os.path.exists(r.path) else uri
        pos = lsp.Position(line=max(r.line - 1, 0), character=max(r.column - 1, 0))
        related.append(
            lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=rel_uri, range=lsp.Range(start=pos, end=pos)), message=r.message
            )
        )
    href = page_uri(d.code)
    return lsp.Diagnostic(
        range=_range(doc, s.line, s.column, s.end_line, s.end_column),
        severity=_SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Error),
        code=d.code,
        code_description=lsp.CodeDescription(href=href) if href else None,
        source="trainlint",
        message=d.message if d.status.value == "suspected" else f"{d.message} ({d.status.value})",
        related_information=related or None,
    )


def _text_edit(doc: TextDocument, e: Edit) -> lsp.TextEdit:
    return lsp.TextEdit(range=_range(doc, e.line, e.column, e.end_line, e.end_column), new_text=e.content)


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (b.start.line, b.start.character) <= (
        a.end.line,
        a.end.character,
    )


def workspace_edit(
    doc: TextDocument, uri: str, d: Diagnostic, document: Callable[[str], TextDocument]
) -> lsp.WorkspaceEdit:
    """The fix as one workspace edit: a fix may edit other files than the document (the
    model's `forward` for a loss in the training script); `document` gives their text."""
    assert d.fix is not None
    changes: Dict[str, List[lsp.TextEdit]] = {}
    for e in d.fix.edits:
        in_doc = e.path is None or e.path == d.path
        target_uri = uri if in_doc else from_fs_path(os.path.abspath(e.path or ""))
        target = doc if in_doc else document(target_uri)
        changes.setdefault(target_uri, []).append(_text_edit(target, e))
    return lsp.WorkspaceEdit(changes=changes)


def code_actions(
    doc: TextDocument,
    pub: Published,
    uri: str,
    wanted: lsp.Range,
    document: Optional[Callable[[str], TextDocument]] = None,
) -> List[lsp.CodeAction]:
    # Editors ask for the cursor's position or line; offer what is on those lines.
    lines_wanted = lsp.Range(
        start=lsp.Position(line=wanted.start.line, character=0), end=lsp.Position(line=wanted.end.line + 1, character=0)
    )
    actions: List[lsp.CodeAction] = []
    for d, ld in pub.findings:
        if not _overlaps(ld.range, lines_wanted):
            continue
        if d.fix is not None and d.fix.edits and d.cell is None:
            actions.append(
                lsp.CodeAction(
                    title=f"{d.fix.description} ({d.code})",
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[ld],
                    is_preferred=d.fix.applicability == "safe",
                    edit=workspace_edit(doc, uri, d, document or TextDocument),
                )
            )
        edit = noqa_edit(d, doc.lines)
        if edit is not None:
            actions.append(
                lsp.CodeAction(
                    title=f"Suppress {d.code} on this line with `# noqa: {d.code}`",
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[ld],
                    edit=lsp.WorkspaceEdit(changes={uri: [_text_edit(doc, edit)]}),
                )
            )
    return actions


def create_server() -> TrainlintServer:
    server = TrainlintServer()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: TrainlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: TrainlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE_S)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: TrainlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        saved = params.text_document.uri
        ls.schedule(saved, 0)
        # A saved helper can change the findings of the open files that import it.
        for uri in list(ls.workspace.text_documents):
            if uri != saved and uri not in ls.pending:
                ls.schedule(uri, DEBOUNCE_S)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: TrainlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix])
    )
    def code_action(ls: TrainlintServer, params: lsp.CodeActionParams) -> Optional[List[lsp.CodeAction]]:
        uri = params.text_document.uri
        state = ls.current(uri)
        if state is None:
            return None
        return code_actions(state[0], state[1], uri, params.range, ls.workspace.get_text_document) or None

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: TrainlintServer, params: lsp.HoverParams) -> Optional[lsp.Hover]:
        state = ls.current(params.text_document.uri)
        if state is None:
            return None
        pos = params.position
        at = lsp.Range(start=pos, end=pos)
        texts = [hover_markdown(d) for d, ld in state[1].findings if _overlaps(ld.range, at)]
        if not texts:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(texts)))

    return server


def serve() -> None:
    create_server().start_io()
