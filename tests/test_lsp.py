"""The language server, driven end to end by a real LSP client over stdio (pytest-lsp)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

BUGGY = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.MSELoss()

for step in range(10):
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""
BACKWARD_LINE = 10  # 0-based line of `loss.backward()`

FIXED = BUGGY.replace("    loss = criterion", "    optimizer.zero_grad()\n    loss = criterion")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "trainlint", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def _next_publish(client: LanguageClient) -> None:
    # A server that never answers fails the test instead of hanging it.
    await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=30)


async def _open(client: LanguageClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    await _next_publish(client)
    return uri


async def _replace(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=text)],
        )
    )
    await _next_publish(client)


def _codes(client: LanguageClient, uri: str) -> List[str]:
    return [str(d.code) for d in client.diagnostics.get(uri, [])]


def _apply(text: str, edits: List[lsp.TextEdit]) -> str:
    """What an editor does with a WorkspaceEdit (ASCII text: UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(p: lsp.Position) -> int:
        return offsets[p.line] + p.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


@pytest.mark.asyncio
async def test_diagnostics_on_open_and_after_change(client: LanguageClient, tmp_path: Path) -> None:
    uri = await _open(client, tmp_path / "train.py", BUGGY)
    diags = client.diagnostics[uri]
    assert [str(d.code) for d in diags] == ["TL101"]
    d = diags[0]
    assert d.range.start.line == BACKWARD_LINE and d.range.start.character == 4
    assert d.severity == lsp.DiagnosticSeverity.Error and d.source == "trainlint"
    assert d.related_information and d.related_information[0].location.range.start.line == BACKWARD_LINE + 1
    assert d.code_description is not None and d.code_description.href.endswith("TL101-missing-zero-grad.md")

    await _replace(client, uri, 2, FIXED)
    assert _codes(client, uri) == []

    await _replace(client, uri, 3, BUGGY + "def broken(:\n")
    assert _codes(client, uri) == ["TL001"]


@pytest.mark.asyncio
async def test_rapid_edits_end_with_the_last_texts_findings(client: LanguageClient, tmp_path: Path) -> None:
    uri = await _open(client, tmp_path / "train.py", FIXED)
    assert _codes(client, uri) == []
    # Edits faster than the debounce: only the final text matters.
    for version, text in enumerate([FIXED + "\n", FIXED + "\n\n", BUGGY], start=2):
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=text)],
            )
        )
    await _next_publish(client)
    assert _codes(client, uri) == ["TL101"]


@pytest.mark.asyncio
async def test_noqa_code_action_applied_by_the_client_removes_the_finding(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await _open(client, tmp_path / "train.py", BUGGY)
    diag = client.diagnostics[uri][0]
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=lsp.CodeActionContext(diagnostics=[diag]),
        )
    )
    assert actions
    noqa = [a for a in actions if isinstance(a, lsp.CodeAction) and "noqa" in a.title]
    assert len(noqa) == 1 and noqa[0].edit is not None and noqa[0].edit.changes is not None
    new_text = _apply(BUGGY, noqa[0].edit.changes[uri])
    assert "loss.backward()  # noqa: TL101" in new_text

    await _replace(client, uri, 2, new_text)
    assert _codes(client, uri) == []


@pytest.mark.asyncio
async def test_fix_code_actions_apply_and_clear_their_finding(client: LanguageClient, tmp_path: Path) -> None:
    """Every quick fix offered (other than `# noqa`) must make its finding go away once applied."""
    uri = await _open(client, tmp_path / "train.py", BUGGY)
    diag = client.diagnostics[uri][0]
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=lsp.CodeActionContext(diagnostics=[diag]),
        )
    )
    fixes = [a for a in actions or [] if isinstance(a, lsp.CodeAction) and "noqa" not in a.title]
    if not fixes:
        pytest.skip("no automatic fix is offered for TL101 in this build")
    assert fixes[0].edit is not None and fixes[0].edit.changes is not None
    new_text = _apply(BUGGY, fixes[0].edit.changes[uri])
    await _replace(client, uri, 2, new_text)
    assert "TL101" not in _codes(client, uri)


@pytest.mark.asyncio
async def test_hover_shows_the_rules_summary_and_page(client: LanguageClient, tmp_path: Path) -> None:
    from trainlint import registry

    uri = await _open(client, tmp_path / "train.py", BUGGY)
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=BACKWARD_LINE, character=8)
        )
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert registry.RULES["TL101"].summary in hover.contents.value
    assert "TL101-missing-zero-grad.md" in hover.contents.value
    nothing = await client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=2))
    )
    assert nothing is None


@pytest.mark.asyncio
async def test_settings_come_from_the_documents_folder(client: LanguageClient, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.trainlint]\nignore = ["TL101"]\n')
    quiet = await _open(client, project / "train.py", BUGGY)
    assert _codes(client, quiet) == []
    loud = await _open(client, tmp_path / "train.py", BUGGY)
    assert _codes(client, loud) == ["TL101"]


@pytest.mark.asyncio
async def test_closing_a_document_clears_its_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    uri = await _open(client, tmp_path / "train.py", BUGGY)
    assert _codes(client, uri) == ["TL101"]
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    await _next_publish(client)
    assert _codes(client, uri) == []


def test_lsp_command_without_pygls_says_what_to_install(tmp_path: Path) -> None:
    # A `pygls` that cannot be imported stands in for an install without the extra.
    (tmp_path / "pygls").mkdir()
    (tmp_path / "pygls" / "__init__.py").write_text("raise ImportError('not installed')\n")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from trainlint.cli import main; main(['lsp'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "trainlint[lsp]" in proc.stderr


def test_importing_the_command_does_not_import_pygls() -> None:
    code = "import sys, trainlint.lsp_command, trainlint.cli; print('pygls' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


HELPERS = """\
import torch.nn as nn


def clear_gradients(module: nn.Module) -> None:
    for p in module.parameters():
        p.grad = None
"""
USES_HELPER = """\
import torch
import torch.nn as nn
from helpers import clear_gradients

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    clear_gradients(model)
    loss = model(torch.randn(3, 4)).sum()
    loss.backward()
    optimizer.step()
"""


@pytest.mark.asyncio
async def test_imported_project_modules_are_read_from_disk_or_the_editor(
    client: LanguageClient, tmp_path: Path
) -> None:
    # Without helpers.py the loop seems never to clear its gradients.
    (tmp_path / "helpers.py").write_text(HELPERS)
    uri = await _open(client, tmp_path / "train.py", USES_HELPER)
    assert _codes(client, uri) == []
    # An unsaved edit of the helper in the editor wins over the file on disk.
    helper_uri = await _open(client, tmp_path / "helpers.py", HELPERS.replace("p.grad = None", "print(p)"))
    await _replace(client, uri, 2, USES_HELPER + "\n")
    assert _codes(client, uri) == ["TL101"]
    assert _codes(client, helper_uri) == []


@pytest.mark.asyncio
async def test_saving_a_helper_relints_the_open_files_that_import_it(client: LanguageClient, tmp_path: Path) -> None:
    helper = tmp_path / "helpers.py"
    helper.write_text(HELPERS.replace("p.grad = None", "print(p)"))
    uri = await _open(client, tmp_path / "train.py", USES_HELPER)
    assert _codes(client, uri) == ["TL101"]
    helper_uri = await _open(client, helper, helper.read_text())
    helper.write_text(HELPERS)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=helper_uri, version=2),
            content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=HELPERS)],
        )
    )
    client.text_document_did_save(
        lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=helper_uri))
    )
    for _ in range(3):  # the helper's own lint, then train.py's
        await _next_publish(client)
        if _codes(client, uri) == []:
            break
    assert _codes(client, uri) == []
