"""Positions of reported nodes: computed statement by statement, they must be exactly the
ones libcst computes over the whole module (lines 1-based, columns 0-based, end exclusive),
and so must the lines of the statement that holds each node (used by suppressions)."""

from __future__ import annotations

import glob
import os
import random
from typing import Dict, List, Tuple

import libcst as cst
import pytest
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from trainlint.analysis.facts import ModuleFacts, build_facts
from trainlint.analysis.positions import ModulePositions, positions
from trainlint.analysis.walk import walk
from trainlint.testing import lint_source

TRICKY = {
    "decorators": (
        "import functools\n\n\n# a comment before the decorators\n@functools.lru_cache(\n    maxsize=None,\n)\n"
        "# between decorators\n@staticmethod\n\ndef f(x):  # trailing\n    return x\n\n\nclass A:\n"
        "    @property\n    # inside\n    def p(self):\n        return 1\n\n    @p.setter\n    def p(self, v): pass\n"
    ),
    "blocks": (
        "def g(a):\n    if a:\n        b = 1\n    elif a > 1:\n        b = 2\n    elif a > 2: b = 3\n    else:\n"
        "        if a:\n            b = 4\n        else:\n            b = 5\n    try:\n        pass\n"
        "    except (ValueError, TypeError) as e:\n        raise\n    except Exception:\n        pass\n"
        "    else:\n        x = 1; y = 2\n    finally:\n        z = 3\n    for i in range(3):\n        continue\n"
        "    else:\n        pass\n    while a: a -= 1\n    with open('f') as fh, open('g'):\n        pass\n"
        "    # a comment that ends the block\n\n\nx = [\n    1,\n    2,\n]  # after\n"
    ),
    "match_and_async": (
        "async def h(q):\n    async for item in q:\n        match item:\n            case {'k': v} if v:\n"
        "                print(v)\n            case [a, *rest]:\n                pass\n            case _:\n"
        "                async with q as r:\n                    await r\n    return [\n        i\n"
        "        for i in q\n    ]\n"
    ),
    "continuations": (
        "total = 1 + \\\n    2 + \\\n    3\nif total and \\\n        total:\n    s = '''multi\nline''' ; t = (\n"
        "        lambda z: z)\n"
    ),
    "tabs_and_custom_indent": "class T:\n\tdef m(self):\n\t\tif self:\n\t\t  return 1\n\t\treturn 2\n",
    "crlf": "import torch\r\n\r\ndef f():\r\n    x = torch.zeros(1)\r\n    return x\r\n",
    "no_trailing_newline": "def f():\n    return g(\n        1)",
    "try_star": "try:\n    pass\nexcept* ValueError:\n    pass\nexcept* (TypeError, KeyError) as e:\n    raise\n",
    "nested_defs": (
        "def outer():\n    class Inner:\n        def m(self):\n            def deep():\n                return [x for x in ()]\n"
        "            return deep\n    return Inner\n"
    ),
    "empty": "",
    "comments_only": "# nothing\n# here\n",
}


def _facts(text: str, path: str = "m.py") -> ModuleFacts:
    return build_facts(path, "m", text, cst.parse_module(text))


def _whole(facts: ModuleFacts) -> Dict[cst.CSTNode, CodeRange]:
    return dict(MetadataWrapper(facts.tree, unsafe_skip_copy=True).resolve(PositionProvider))


def _statement_lines_reference(ranges: Dict[cst.CSTNode, CodeRange], node: cst.CSTNode) -> Tuple[int, int]:
    """The innermost statement by line span, over every statement of the module."""
    pos = ranges[node]
    best = None
    for n, r in ranges.items():
        if isinstance(n, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            if r.start.line <= pos.start.line and r.end.line >= pos.end.line:
                if best is None or (r.end.line - r.start.line) < (best.end.line - best.start.line):
                    best = r
    if best is None:
        return pos.start.line, pos.end.line
    if isinstance(node, cst.BaseCompoundStatement):
        return best.start.line, best.start.line
    return best.start.line, best.end.line


def _nodes(facts: ModuleFacts) -> List[cst.CSTNode]:
    return [n for stmt in facts.tree.body for n in walk(stmt)]


def _check(facts: ModuleFacts, nodes: List[cst.CSTNode]) -> ModulePositions:
    ranges = _whole(facts)
    pos = ModulePositions(facts)
    for node in nodes:
        assert pos.of(node) == ranges[node], (facts.tree.code_for_node(node), pos.of(node), ranges[node])
        assert pos.statement_lines(node) == _statement_lines_reference(ranges, node), facts.tree.code_for_node(node)
    return pos


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_every_node_of_tricky_code_is_where_libcst_puts_it(name: str) -> None:
    facts = _facts(TRICKY[name])
    nodes = _nodes(facts)
    random.Random(0).shuffle(nodes)  # the order of questions must not matter
    pos = _check(facts, nodes)
    if nodes:
        assert pos._whole is None, "every statement was positioned alone, without the whole-module pass"


def test_real_code_matches_libcst() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = sorted(glob.glob(os.path.join(root, "trainlint", "**", "*.py"), recursive=True))[:20]
    assert files
    rng = random.Random(1)
    for path in files:
        with open(path, encoding="utf-8") as fh:
            facts = _facts(fh.read(), path)
        nodes = _nodes(facts)
        pos = _check(facts, rng.sample(nodes, min(60, len(nodes))))
        assert pos._whole is None, path


def test_one_finding_regenerates_only_its_statement() -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(200))
    facts = _facts(body + "y = f7(1)\n")
    call = facts.tree.body[-1].body[0].value  # type: ignore[attr-defined]
    r = positions(facts).of(call)
    assert (r.start.line, r.start.column, r.end.line, r.end.column) == (801, 4, 801, 9)
    ranges = positions(facts)._units
    assert len(ranges) == 1 and positions(facts)._whole is None


def test_layout_nodes_and_the_module_fall_back_to_the_whole_module() -> None:
    facts = _facts("x = (1,\n     2)\n")
    tup = facts.tree.body[0].body[0].value  # type: ignore[attr-defined]
    comma = tup.elements[0].comma
    ranges = _whole(facts)
    pos = ModulePositions(facts)
    assert pos.of(comma) == ranges[comma]
    assert pos.of(facts.tree) == ranges[facts.tree]


def test_code_python_cannot_parse_still_gets_libcst_positions() -> None:
    # A form libcst accepts and this interpreter's own parser may not: positions come from
    # the whole-module pass instead.
    text = "def f():\n    return 1\n\nx = f(\n)\n"
    facts = _facts(text)
    facts.text = text.replace("def f", "def f f")  # Python's parser now fails on the text
    nodes = _nodes(facts)
    ranges = _whole(facts)
    pos = ModulePositions(facts)
    for node in nodes:
        assert pos.of(node) == ranges[node]


def test_finding_columns_are_one_based_and_end_exclusive() -> None:
    src = (
        "import torch\n\nmodel = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for x in [torch.randn(4, 2)]:\n    loss = model(x).sum()\n    loss.backward()\n    opt.step()\n"
    )
    found = [d for d in lint_source(src) if d.code == "TL101"]
    assert found
    line = src.splitlines()[found[0].span.line - 1]
    text = line[found[0].span.column - 1 : found[0].span.end_column - 1]
    assert text in ("opt.step()", "loss.backward()", "opt.step", "loss.backward"), text
