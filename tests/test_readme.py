"""The README stays true: its rule table matches the registry, its quick start works."""

from __future__ import annotations

import re
from pathlib import Path

from trainlint import registry
from trainlint.config import Settings
from trainlint.pipeline import check_paths

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_rule_table_matches_registry():
    rows = re.findall(r"^\| \[(TL\d{3})\]\(rules/(TL\d{3})-([a-z0-9-]+)\.md\) \| `([a-z0-9-]+)` \|", README, re.M)
    assert [r[0] for r in rows] == list(registry.RULES)
    for code, page_code, page_name, name in rows:
        info = registry.RULES[code]
        assert page_code == code and page_name == name == info.name


def test_quick_start_commands_are_there():
    assert "python -m pip install . && trainlint check examples/train_buggy.py" in README
    assert "python -m pip install -e '.[dev,trace,lsp]' 'torch==2.13.0' && python -m pytest" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pip install -q -e '.[dev,trace,lsp]' 'torch==2.13.0'" in ci
    assert "python -m pytest" in ci


def test_bundled_example_has_a_real_bug_and_its_fixed_twin_is_clean():
    buggy = check_paths([str(ROOT / "examples" / "train_buggy.py")], Settings())
    assert "TL101" in {d.code for d in buggy.diagnostics}
    clean = check_paths([str(ROOT / "examples" / "train_clean.py")], Settings())
    assert clean.diagnostics == []


def test_every_cli_option_of_check_is_documented():
    from trainlint.cli import check

    for param in check.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}" in README or f"{opt}`" in README or f"`{opt} " in README, opt


def test_every_cli_option_of_trace_is_documented():
    from trainlint.cli import main

    trace = main.commands["trace"]  # type: ignore[attr-defined]
    for param in trace.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert re.search(rf"(?<![\w-]){opt}(?![\w-])", README), opt


def test_the_commands_in_the_docs_use_options_that_exist():
    from trainlint.cli import main

    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for command, rest in re.findall(r"^trainlint (check|trace) (.*)$", text, re.M):
            rest = rest.split(" -- ")[0]  # (what follows ` -- ` is the script's own)
            known = {o for p in main.commands[command].params for o in p.opts}  # type: ignore[attr-defined]
            for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
                assert opt in known, (page.name, command, opt)


def test_the_pre_commit_rev_is_a_release_in_the_changelog():
    import subprocess
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    root = Path(__file__).resolve().parent.parent
    rev = re.search(r"rev: v(\S+)", (root / "README.md").read_text(encoding="utf-8"))
    assert rev is not None
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert rev.group(1) == version
    assert f"## {version} (" in (root / "CHANGELOG.md").read_text(encoding="utf-8")
    # (a checkout without tags, such as a shallow clone, cannot say)
    tags = subprocess.run(["git", "tag", "--list"], cwd=root, capture_output=True, text=True)
    if tags.returncode == 0 and tags.stdout.split():
        assert f"v{version}" in tags.stdout.split()
