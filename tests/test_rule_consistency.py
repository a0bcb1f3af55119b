"""Every rule is whole: its file, its page, its options, its fixes and its runtime verdict agree.

A rule is one file, `trainlint/rules/<family>/tlNNN_<name>.py`, ending with `RULE = Rule(...)`,
plus one page, `rules/TLNNN-<name>.md`, and one fixture folder, `tests/rules/TLNNN/` (the
fixture runner checks that folder). These tests fail when one of them drifts from the others.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Dict

import pytest

from trainlint import registry
from trainlint.rules import FAMILIES, Rule, rule_module_names

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "rules"
FAMILY_DIGIT = {"tool": "0", "loop": "1", "loss": "2", "data": "3", "model": "4", "hparams": "5", "graph": "6"}
CODES = [r.code for r in registry.all_rules()]


def _rule(code: str) -> Rule:
    return registry.RULES[code]


def _page(code: str) -> str:
    rule = _rule(code)
    path = PAGES / f"{rule.code}-{rule.name}.md"
    assert path.is_file(), f"{code}: no page {path.relative_to(ROOT)}"
    return path.read_text(encoding="utf-8")


def _section(page: str, title: str) -> str:
    parts = re.split(r"^## ", page, flags=re.M)
    for part in parts[1:]:
        head, _, body = part.partition("\n")
        if head.strip() == title:
            return body
    return ""


def _module_of(rule: Rule) -> str:
    family = "runtime" if rule.kind == "runtime" else rule.family
    return f"trainlint.rules.{family}.{rule.code.lower()}_{rule.name.replace('-', '_')}"


def test_every_rule_file_defines_one_rule_named_after_it() -> None:
    names = list(rule_module_names())
    assert sorted(names) == sorted(_module_of(r) for r in registry.all_rules())
    for name in names:
        module = importlib.import_module(name)
        rules = [v for v in vars(module).values() if isinstance(v, Rule)]
        assert rules == [module.RULE], f"{name}: one `RULE` and no other Rule object"


def test_codes_and_names_are_unique_and_well_formed() -> None:
    assert len(set(CODES)) == len(CODES)
    assert len({r.name for r in registry.all_rules()}) == len(CODES)
    for r in registry.all_rules():
        assert re.fullmatch(r"TL\d{3}", r.code), r.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name), r.name
        assert r.family in FAMILIES, r.family
        assert r.summary.endswith("."), f"{r.code}: the summary is one sentence"


@pytest.mark.parametrize("code", CODES)
def test_family_kind_and_check_agree(code: str) -> None:
    rule = _rule(code)
    if rule.kind == "static":
        assert rule.check is not None, f"{code}: a static rule needs a check"
        assert code[2] == FAMILY_DIGIT[rule.family], f"{code}: TL{code[2]}xx is not the {rule.family} family"
    else:
        assert rule.check is None, f"{code}: only static rules have a check"
        assert rule.kind in ("runtime", "tool")
        assert code[2] == ("9" if rule.kind == "runtime" else "0")


def test_every_page_belongs_to_a_rule() -> None:
    pages = {p.name for p in PAGES.glob("TL*.md")}
    expected = {f"{r.code}-{r.name}.md" for r in registry.all_rules()}
    assert pages == expected


@pytest.mark.parametrize("code", CODES)
def test_page_title_names_the_rule(code: str) -> None:
    rule = _rule(code)
    title = _page(code).splitlines()[0]
    assert title.startswith("# ") and rule.code in title and rule.name in title, title


@pytest.mark.parametrize("code", CODES)
def test_options_match_the_pages_options_rows(code: str) -> None:
    """Every option has a row with its default; every row names an option."""
    rule = _rule(code)
    section = _section(_page(code), "Options")
    rows: Dict[str, str] = dict(re.findall(r"^\| `(\w+)` \| `?([^`|]+?)`? \|", section, flags=re.M))
    defaults = rule.option_defaults()
    assert set(rows) == set(defaults), f"{code}: page rows {sorted(rows)} vs options {sorted(defaults)}"
    for name, default in defaults.items():
        assert float(rows[name]) == float(default), f"{code}.{name}: page says {rows[name]}, default {default}"


@pytest.mark.parametrize("code", CODES)
def test_fixable_rules_have_a_fix_that_their_check_attaches(code: str) -> None:
    rule = _rule(code)
    assert rule.fixable == bool(rule.fixes), f"{code}: fixable={rule.fixable} but {len(rule.fixes)} fix builders"
    page_promises_fix = "--fix" in _page(code)
    assert page_promises_fix == rule.fixable, f"{code}: the page and the rule disagree on `--fix`"
    if rule.fixes:
        source = inspect.getsource(importlib.import_module(_module_of(rule)))
        for builder in rule.fixes:
            assert builder.__name__.startswith(f"fix_{code.lower()}"), builder.__name__
            assert re.search(rf"fixes\.hook\(\s*{builder.__name__}\b", source), (
                f"{code}: {builder.__name__} is never attached to a finding"
            )


@pytest.mark.parametrize("code", [c for c in CODES if _rule(c).kind == "static"])
def test_static_rules_have_a_runtime_verdict_or_say_why_not(code: str) -> None:
    rule = _rule(code)
    assert (rule.verdict is not None) != bool(rule.no_runtime_check), f"{code}: a verdict, or a reason there is none"
    if rule.verdict is not None:
        assert rule.verdict.__name__ == f"verdict_{code.lower()}", rule.verdict.__name__
        assert rule.verdict.__module__ == _module_of(rule), f"{code}: the verdict lives in the rule file"
    evidence = _section(_page(code), "Runtime evidence")
    assert evidence.strip(), f"{code}: the page's Runtime evidence section is empty"


@pytest.mark.parametrize("code", [c for c in CODES if _rule(c).kind != "static"])
def test_only_static_rules_carry_runtime_verdict_flags(code: str) -> None:
    rule = _rule(code)
    assert rule.verdict is None and not rule.confirmed_by_crash and not rule.needs_eval_pass


@pytest.mark.parametrize("code", CODES)
def test_runtime_rules_have_their_check_in_their_file(code: str) -> None:
    rule = _rule(code)
    assert (rule.runtime_check is not None) == (rule.kind == "runtime"), code
    if rule.runtime_check is not None:
        assert rule.runtime_check.__module__ == _module_of(rule)


def test_rule_files_of_static_rules_import_no_torch() -> None:
    """A rule file may hold a verdict (judging code), but `check` never needs torch."""
    for name in rule_module_names():
        source = inspect.getsource(importlib.import_module(name))
        assert not re.search(r"^\s*(import torch|from torch)", source, flags=re.M), name
