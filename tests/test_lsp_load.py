"""The language server under load: 1,000 rapid edits of a 5,000-line file are debounced into a
few lints, the last one reflects the final text, and the server's memory stays bounded."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from tests.test_lsp import BACKWARD_LINE, BUGGY  # noqa: E402

FILLER_LINES = 5_000


def _server_rss_kb() -> int:
    """Resident memory of the `trainlint lsp` process this test started (Linux /proc)."""
    best = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"trainlint" in cmd and b"lsp" in cmd:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            continue
    return best


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "trainlint", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's memory from /proc")
@pytest.mark.asyncio
async def test_a_thousand_rapid_edits_are_debounced_and_memory_stays_bounded(client: LanguageClient, tmp_path: Path):
    filler = "".join(f"value_{i} = {i} * 2\n" for i in range(FILLER_LINES))
    text = BUGGY + filler
    uri = (tmp_path / "train.py").as_uri()
    published = 0

    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=60)
    assert [str(d.code) for d in client.diagnostics[uri]] == ["TL101"]
    rss_before = _server_rss_kb()

    # 1,000 single-character edits at the end of the file, then one that fixes the bug.
    start = time.perf_counter()
    last_line = BUGGY.count("\n") + FILLER_LINES
    for version in range(2, 1002):
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    lsp.TextDocumentContentChangeEvent_Type1(
                        range=lsp.Range(
                            start=lsp.Position(line=last_line, character=0),
                            end=lsp.Position(line=last_line, character=0),
                        ),
                        text="#",
                    )
                ],
            )
        )
    fix_at = lsp.Position(line=BACKWARD_LINE, character=0)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=1002),
            content_changes=[
                lsp.TextDocumentContentChangeEvent_Type1(
                    range=lsp.Range(start=fix_at, end=fix_at), text="    optimizer.zero_grad()\n"
                )
            ],
        )
    )
    sent = time.perf_counter() - start

    # Wait until the server publishes the lint of the final text (no TL101 any more).
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=120)
        published += 1
        if "TL101" not in [str(d.code) for d in client.diagnostics.get(uri, [])]:
            break
    caught_up = time.perf_counter() - start
    rss_after = _server_rss_kb()
    print(
        f"\nsent 1,001 edits in {sent:.2f} s; final lint published after {caught_up:.2f} s; "
        f"{published} publishes; server RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB"
    )

    assert "TL101" not in [str(d.code) for d in client.diagnostics.get(uri, [])]
    assert published <= 20, "edits were not debounced"
    assert rss_after < rss_before + 100 * 1024, "server memory grew with the edits"
