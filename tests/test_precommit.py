"""The pre-commit hooks, end to end: real `pre-commit run` against a clone of this repository.

pre-commit installs the hook repository at a commit, so this tests the committed HEAD of the
checkout these tests live in (not uncommitted edits). It builds a virtual environment and
pip-installs the package, which needs the package index: those tests are marked slow.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]

BUGGY = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    loss = model(torch.randn(8, 4)).sum()
    loss.backward()
    optimizer.step()
"""
CLEAN = BUGGY.replace("    loss = model", "    optimizer.zero_grad()\n    loss = model")


def _pre_commit() -> Optional[List[str]]:
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    exe = shutil.which("pre-commit")
    return [exe] if exe else None


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=_git_env())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _git_env() -> Dict[str, str]:
    env = dict(os.environ)
    # A user's global hooks or templates must not leak into the throwaway repositories.
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0")
    return env


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, str]:
    """A clone of HEAD, used as the hook repository, and its commit."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if _pre_commit() is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout")
    clone = tmp_path_factory.mktemp("hook") / "trainlint"
    _git("clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone), cwd=clone.parent)
    if not (clone / ".pre-commit-hooks.yaml").is_file():
        pytest.skip("the committed HEAD has no .pre-commit-hooks.yaml yet; pre-commit only installs committed hooks")
    return clone, _git("rev-parse", "HEAD", cwd=clone)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the tests of this module so the hook's environment is built once; thrown away after.
    return tmp_path_factory.mktemp("pre-commit-home")


def _make_repo(path: Path, hook_repo: Tuple[Path, str], hook_id: str, files: Dict[str, str]) -> Path:
    path.mkdir()
    _git("init", "--quiet", cwd=path)
    clone, rev = hook_repo
    config = f"repos:\n  - repo: {json.dumps(str(clone))}\n    rev: {rev}\n    hooks:\n      - id: {hook_id}\n"
    (path / ".pre-commit-config.yaml").write_text(config)
    for name, text in files.items():
        (path / name).write_text(text)
    _git("add", "-A", cwd=path)
    return path


def _run(repo: Path, home: Path, all_files: bool = True) -> subprocess.CompletedProcess:
    """`pre-commit run`: on every file, or (as at a commit) on the staged ones."""
    cmd = _pre_commit()
    assert cmd is not None
    env = _git_env()
    env.update(PRE_COMMIT_HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
    env.pop("VIRTUAL_ENV", None)
    which = ["--all-files"] if all_files else []
    return subprocess.run(
        [*cmd, "run", *which, "--color", "never"], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )


def _notebook(source: str) -> str:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_manifest_entries_run_with_this_checkouts_cli(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"trainlint", "trainlint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["require_serial"] is True
        assert hook["types_or"] == ["python", "jupyter"]
        entry = hook["entry"].split()
        assert entry[:2] == ["trainlint", "check"] and "--force-exclude" in entry
        # pre-commit appends the file names to the entry.
        (tmp_path / "train.py").write_text(CLEAN)
        proc = subprocess.run(
            [sys.executable, "-m", "trainlint", *entry[1:], "train.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "train.py").read_text() == CLEAN


def test_the_repositorys_own_hooks_pass_on_this_checkout() -> None:
    """`.pre-commit-config.yaml` (this repository's own checks): ruff and ruff-format from
    their hook repository, and local hooks whose commands pass here (mypy is left to CI)."""
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    ids = {h["id"] for repo in config["repos"] for h in repo["hooks"]}
    assert {"ruff", "ruff-format", "mypy", "trainlint-examples"} <= ids
    local = {h["id"]: h for repo in config["repos"] if repo["repo"] == "local" for h in repo["hooks"]}
    entry = local["trainlint-examples"]["entry"].split()
    assert entry[:3] == ["python", "-m", "trainlint"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, *entry[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_is_a_composite_that_reports_in_github_format() -> None:
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    scripts = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "--output-format github" in scripts and "--output-format sarif" in scripts
    assert "${{" not in scripts  # inputs reach the scripts through the environment only


@pytest.mark.slow
def test_hook_fails_on_buggy_code_and_passes_on_clean(
    tmp_path: Path, hook_repo: Tuple[Path, str], pre_commit_home: Path
) -> None:
    repo = _make_repo(tmp_path / "repo", hook_repo, "trainlint", {"train.py": BUGGY, "explore.ipynb": _notebook(BUGGY)})
    failed = _run(repo, pre_commit_home)
    out = failed.stdout + failed.stderr
    assert failed.returncode == 1, out
    assert "train.py:8:5: TL101" in out
    assert "explore.ipynb:cell 1:8:5: TL101" in out  # notebooks reach the hook too

    (repo / "train.py").write_text(CLEAN)
    (repo / "explore.ipynb").write_text(_notebook(CLEAN))
    _git("add", "-A", cwd=repo)
    passed = _run(repo, pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


@pytest.mark.slow
def test_hook_respects_exclude_for_the_files_it_is_given(
    tmp_path: Path, hook_repo: Tuple[Path, str], pre_commit_home: Path
) -> None:
    files = {
        "pyproject.toml": '[tool.trainlint]\nextend-exclude = ["legacy_*.py"]\n',
        "legacy_train.py": BUGGY,
        "train.py": CLEAN,
    }
    repo = _make_repo(tmp_path / "repo", hook_repo, "trainlint", files)
    result = _run(repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_fix_hook_rewrites_the_file(tmp_path: Path, hook_repo: Tuple[Path, str], pre_commit_home: Path) -> None:
    clone, _ = hook_repo
    if "--fix" not in (clone / "trainlint" / "cli.py").read_text(encoding="utf-8"):
        pytest.skip("the committed HEAD has no `check --fix` yet")
    repo = _make_repo(tmp_path / "repo", hook_repo, "trainlint-fix", {"train.py": BUGGY})
    first = _run(repo, pre_commit_home)
    assert first.returncode == 1, first.stdout + first.stderr  # findings fixed count as a failure
    fixed = (repo / "train.py").read_text()
    if fixed == BUGGY:
        pytest.skip("the committed HEAD offers no safe fix for TL101")
    assert "zero_grad" in fixed
    _git("add", "-A", cwd=repo)
    second = _run(repo, pre_commit_home)
    assert second.returncode == 0, second.stdout + second.stderr


# ---------------------------------------------------------------------------- the baseline

BASELINE = "trainlint-baseline.json"
# Code inserted above the recorded finding, and a second loop whose finding's line reads the same.
PREAMBLE = '"""Train a tiny model."""\nimport os\n\nprint(os.getcwd())\n'
SECOND_LOOP = """\
for epoch in range(2):
    loss = model(torch.randn(8, 4)).sum()
    loss.backward()
    optimizer.step()
"""
_FINDING = re.compile(r"^\S+:\d+:\d+: TL\d{3} ", re.MULTILINE)


def _local_hook_config() -> str:
    """The `trainlint` hook of .pre-commit-hooks.yaml as a local hook that runs this checkout
    with this interpreter: real pre-commit, but no hook environment to build, so no package
    index (the config is JSON, which YAML reads)."""
    yaml = pytest.importorskip("yaml")
    hook = next(h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "trainlint")
    entry = hook["entry"].split()
    assert entry[0] == "trainlint"
    command = " ".join([shlex.quote(sys.executable), "-m", "trainlint", *entry[1:]])
    local = {**hook, "entry": command, "language": "system", "args": ["--baseline", BASELINE]}
    return json.dumps({"repos": [{"repo": "local", "hooks": [local]}]}, indent=2)


def _commit(repo: Path) -> None:
    _git("add", "-A", cwd=repo)
    _git("-c", "user.name=trainlint", "-c", "user.email=trainlint@example.com", "commit", "-q", "-m", "x", cwd=repo)


def _baseline_round_trip(repo: Path, home: Path) -> None:
    (repo / "train.py").write_text(BUGGY)
    recorded = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--baseline", BASELINE, "--update-baseline"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert recorded.returncode == 0, recorded.stderr
    _commit(repo)
    passed = _run(repo, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    # Code edited above the finding: the hook, given only the changed file, still passes.
    (repo / "train.py").write_text(PREAMBLE + BUGGY)
    _git("add", "-A", cwd=repo)
    edited = _run(repo, home, all_files=False)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert "Passed" in edited.stdout
    assert _git("status", "--porcelain", BASELINE, cwd=repo) == ""
    _commit(repo)

    # A new bug: exactly one finding fails the hook; the baselined one stays hidden.
    (repo / "train.py").write_text(PREAMBLE + BUGGY + SECOND_LOOP)
    _git("add", "-A", cwd=repo)
    failed = _run(repo, home, all_files=False)
    out = failed.stdout + failed.stderr
    assert failed.returncode == 1, out
    assert _FINDING.findall(out) == ["train.py:16:5: TL101 "], out
    assert "1 finding in the baseline not shown" in out

    # Both fixed: the hook drops the stale entry, which pre-commit reports as a modified file
    # (stage it with the fix); then it passes.
    (repo / "train.py").write_text(PREAMBLE + CLEAN)
    _git("add", "-A", cwd=repo)
    shrunk = _run(repo, home, all_files=False)
    assert shrunk.returncode == 1 and "1 entry removed" in shrunk.stdout, shrunk.stdout + shrunk.stderr
    assert json.loads((repo / BASELINE).read_text())["findings"] == []
    _git("add", "-A", cwd=repo)
    again = _run(repo, home, all_files=False)
    assert again.returncode == 0, again.stdout + again.stderr


def test_baseline_round_trip_under_pre_commit(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Real `pre-commit run`, offline: the manifest's hook as a local hook of this checkout."""
    if shutil.which("git") is None or _pre_commit() is None:
        pytest.skip("git or pre-commit is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git("init", "--quiet", cwd=repo)
    (repo / ".pre-commit-config.yaml").write_text(_local_hook_config())
    _baseline_round_trip(repo, tmp_path_factory.mktemp("pre-commit-home"))


@pytest.mark.slow
def test_baseline_round_trip_with_the_published_hook(
    tmp_path: Path, hook_repo: Tuple[Path, str], pre_commit_home: Path
) -> None:
    """The same through the hook repository (installed by pre-commit from the committed HEAD)."""
    clone, rev = hook_repo
    if "--update-baseline" not in (clone / "trainlint" / "cli.py").read_text(encoding="utf-8"):
        pytest.skip("the committed HEAD has no `check --baseline` yet")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git("init", "--quiet", cwd=repo)
    hooks = [{"id": "trainlint", "args": ["--baseline", BASELINE]}]
    (repo / ".pre-commit-config.yaml").write_text(
        json.dumps({"repos": [{"repo": str(clone), "rev": rev, "hooks": hooks}]})
    )
    _baseline_round_trip(repo, pre_commit_home)
