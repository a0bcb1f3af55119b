"""The editor setups documented in docs/integrations.md, run in a real Neovim (skipped when
`nvim` is not installed): the configuration for the installed version starts `trainlint lsp`,
and a buggy file opened in it gets trainlint's diagnostics."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import pytest

pytest.importorskip("pygls")

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim is not installed (Debian: apt-get install neovim)")
DOCS = Path(__file__).resolve().parent.parent / "docs" / "integrations.md"

BUGGY = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))] * 3:
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
"""

# Waits for the server's diagnostics, then writes one line per diagnostic and quits.
REPORT = """
vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 100)
    local lines = {}
    for _, d in ipairs(vim.diagnostic.get(0)) do
      table.insert(lines, (d.lnum + 1) .. " " .. d.message)
    end
    vim.fn.writefile(lines, "diagnostics.txt")
    vim.cmd("qa!")
  end,
})
"""


def _version() -> Tuple[int, int]:
    out = subprocess.run([NVIM or "nvim", "--version"], capture_output=True, text=True).stdout
    found = re.search(r"NVIM v(\d+)\.(\d+)", out)
    assert found is not None, out
    return int(found.group(1)), int(found.group(2))


def _documented_config(version: Tuple[int, int]) -> str:
    """The Lua block the docs give for this Neovim version."""
    text = DOCS.read_text(encoding="utf-8")
    heading = (
        "Neovim 0.11 and later:"
        if version >= (0, 11)
        else ("Neovim 0.10, without plugins:" if version >= (0, 10) else "Neovim 0.7 to 0.9")
    )
    start = text.index(heading)
    block = re.search(r"```lua\n(.*?)```", text[start:], re.S)
    assert block is not None
    return block.group(1)


def test_the_documented_setup_shows_diagnostics_in_neovim(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY)
    (tmp_path / "pyproject.toml").write_text("[tool.trainlint]\n")
    (tmp_path / "init.lua").write_text(_documented_config(_version()) + REPORT)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "trainlint"  # the command the config names, from this checkout's interpreter
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m trainlint "$@"\n')
    shim.chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=str(DOCS.parent.parent),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    subprocess.run(
        [NVIM or "nvim", "--headless", "-u", "init.lua", "train.py"],
        cwd=tmp_path,
        env=env,
        timeout=90,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    lines = (tmp_path / "diagnostics.txt").read_text().splitlines()
    assert any(line.startswith("8 ") and "gradients are never cleared" in line for line in lines), lines
