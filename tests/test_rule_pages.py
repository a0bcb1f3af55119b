"""The rule pages in rules/: one per registered rule, in the documented layout, with examples
that behave as they claim (every `python bad` block of a static rule triggers it, every
`python good` block does not).

Runtime rules carry `python bad-runtime` / `python good-runtime` blocks; those are run by the
tracer tests, not here. `python fixed` blocks (what `--fix` makes of the first bad block) are
checked by the fix tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from trainlint.registry import RULES
from trainlint.rules import Rule
from trainlint.testing import lint_source

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
PAGE_NAME = re.compile(r"^(TL\d{3})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")

# The layout of a page, in order. Not every page has every section (tool codes have no
# example), but those present must come in this order.
LAYOUT = [
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix",
    "Runtime evidence",
    "Options",
    "References",
]
RULE_SECTIONS = ["What it does", "Why is this bad?", "Example", "References"]
TOOL_SECTIONS = ["What it does", "References"]
EXAMPLE_TAGS = {"bad", "good", "fixed", "bad-runtime", "good-runtime"}


@dataclass
class Block:
    tag: str  # "bad", "good", "bad-runtime", ... ("" for an untagged python block)
    language: str
    code: str
    line: int  # 1-based line of the opening fence in the page


@dataclass
class Page:
    path: Path
    lines: List[str]
    sections: List[str] = field(default_factory=list)
    blocks: List[Block] = field(default_factory=list)

    @property
    def code(self) -> Optional[str]:
        m = PAGE_NAME.match(self.path.name)
        return m.group(1) if m else None

    @property
    def slug(self) -> Optional[str]:
        m = PAGE_NAME.match(self.path.name)
        return m.group(2) if m else None

    @property
    def rule(self) -> Optional[Rule]:
        return RULES.get(self.code or "")


def parse_page(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    page = Page(path=path, lines=text.splitlines())
    fence: Optional[Tuple[str, str, int]] = None
    body: List[str] = []
    for number, line in enumerate(page.lines, start=1):
        if fence is None:
            if line.startswith("```"):
                info = line[3:].strip().split()
                language = info[0] if info else ""
                tag = info[1] if len(info) > 1 else ""
                fence, body = (language, tag, number), []
            elif line.startswith("## "):
                page.sections.append(line[3:].strip())
        elif line.strip() == "```":
            language, tag, start = fence
            page.blocks.append(Block(tag=tag, language=language, code="\n".join(body) + "\n", line=start))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"{path.name}: code block opened on line {fence[2]} is never closed"
    return page


PAGES: List[Page] = [parse_page(p) for p in sorted(RULES_DIR.glob("*.md"))] if RULES_DIR.is_dir() else []


def _page_id(page: Page) -> str:
    return page.path.name


def _is_static(page: Page) -> bool:
    return page.rule is not None and page.rule.kind == "static"


def _example_params(tag: str) -> List[object]:
    params: List[object] = []
    for page in PAGES:
        if not _is_static(page):
            continue
        examples = [b for b in page.blocks if b.language == "python" and b.tag == tag]
        for n, block in enumerate(examples, start=1):
            params.append(pytest.param(page, block, id=f"{page.path.name}:{tag}#{n}(line {block.line})"))
    return params


# --------------------------------------------------------------------------- (a) one page per rule


def _pages_by_code() -> Dict[str, List[Page]]:
    out: Dict[str, List[Page]] = {}
    for page in PAGES:
        out.setdefault(page.code or page.path.name, []).append(page)
    return out


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_registered_rule_has_exactly_one_page(code: str) -> None:
    info = RULES[code]
    pages = _pages_by_code().get(code, [])
    expected = f"{info.code}-{info.name}.md"
    assert pages, f"{code} has no page: expected rules/{expected}"
    assert [p.path.name for p in pages] == [expected], (
        f"{code} must have exactly one page named {expected}, found {[p.path.name for p in pages]}"
    )


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_page_belongs_to_a_registered_rule(page: Page) -> None:
    assert page.code is not None, f"{page.path.name}: page names are <CODE>-<name>.md, e.g. TL101-missing-zero-grad.md"
    assert page.rule is not None, f"{page.path.name}: {page.code} is not a registered rule"
    assert page.slug == page.rule.name, f"{page.path.name}: {page.code} is named {page.rule.name!r} in the registry"


# --------------------------------------------------------------------------- (b) layout


@pytest.mark.parametrize("page", [p for p in PAGES if p.rule is not None], ids=_page_id)
def test_page_header_matches_the_registry(page: Page) -> None:
    info = page.rule
    assert info is not None
    assert page.lines and page.lines[0] == f"# {info.code} {info.name}", (
        f"{page.path.name}: first line must be '# {info.code} {info.name}'"
    )
    meta = f"**Family:** {info.family} · **Severity:** {info.severity.value} · **Kind:** {info.kind}"
    header = [line for line in page.lines[1:] if line.strip()][:1]
    assert header == [meta], f"{page.path.name}: the line after the title must be {meta!r}, found {header}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.rule is not None], ids=_page_id)
def test_page_has_the_required_sections_in_order(page: Page) -> None:
    info = page.rule
    assert info is not None
    required = TOOL_SECTIONS if info.kind == "tool" else RULE_SECTIONS
    missing = [s for s in required if s not in page.sections]
    assert not missing, f"{page.path.name}: missing sections {missing} (has {page.sections})"
    if info.kind == "tool":
        assert "Fix" in page.sections or "Options" in page.sections, f"{page.path.name}: needs a Fix or Options section"
    known = [s for s in page.sections if s in LAYOUT]
    assert known == sorted(known, key=LAYOUT.index), f"{page.path.name}: sections out of order: {known}"
    for section in required:
        assert page.sections.count(section) == 1, f"{page.path.name}: section {section!r} appears more than once"


@pytest.mark.parametrize("page", [p for p in PAGES if p.rule is not None], ids=_page_id)
def test_examples_are_tagged_for_the_rule_kind(page: Page) -> None:
    info = page.rule
    assert info is not None
    tagged = [b for b in page.blocks if b.language == "python" and b.tag]
    unknown = [(b.line, b.tag) for b in tagged if b.tag not in EXAMPLE_TAGS]
    # A misspelt tag would silently take an example out of every test.
    assert not unknown, f"{page.path.name}: unknown example tags (line, tag) {unknown}; use {sorted(EXAMPLE_TAGS)}"
    tags = [b.tag for b in tagged]
    if info.kind == "static":
        assert "bad" in tags and "good" in tags, (
            f"{page.path.name}: a static rule needs a `python bad` and a `python good` example"
        )
    if info.kind == "runtime":
        plain = [b.line for b in tagged if b.tag in ("bad", "good")]
        assert not plain, (
            f"{page.path.name}: runtime-rule examples are `python bad-runtime` / `python good-runtime` (lines {plain})"
        )


# --------------------------------------------------------------------------- (c) examples behave


def _lint_example(page: Page, block: Block) -> List[str]:
    # A block that does not compile would only produce TL001 and make the check vacuous.
    compile(block.code, f"{page.path.name}:{block.line}", "exec")
    assert page.code is not None
    return [d.code for d in lint_source(block.code, select=[page.code])]


@pytest.mark.parametrize("page, block", _example_params("bad"))
def test_bad_example_triggers_its_rule(page: Page, block: Block) -> None:
    found = _lint_example(page, block)
    assert page.code in found, (
        f"{page.path.name}: the `python bad` block at line {block.line} does not trigger {page.code} (got {found})"
    )


@pytest.mark.parametrize("page, block", _example_params("good"))
def test_good_example_does_not_trigger_its_rule(page: Page, block: Block) -> None:
    found = _lint_example(page, block)
    assert page.code not in found, (
        f"{page.path.name}: the `python good` block at line {block.line} triggers {page.code}"
    )
