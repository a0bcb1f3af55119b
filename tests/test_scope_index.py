"""The one reaching-definitions index (`analysis/scopes.py`): its two questions asked of the
same walk, the resolver's (bindings that may hold, loop-carried ones included) and the data
flow's (definitions that reach a use, and whether an earlier value shows through), and the
positions both rely on."""

from __future__ import annotations

import textwrap
from typing import List, Optional, Tuple

import libcst as cst

from trainlint.analysis import data as D
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope, build_facts
from trainlint.analysis.walk import walk


def _facts(src: str) -> ModuleFacts:
    text = textwrap.dedent(src)
    return build_facts("m.py", "m", text, cst.parse_module(text))


def _scope(facts: ModuleFacts, name: str) -> Scope:
    return next(s for s in facts.scopes if s.name == name)


def _uses(scope: Scope, name: str) -> List[cst.Name]:
    """The loads of `name` in a scope's body, in source order (arguments of `use(...)`)."""
    out: List[cst.Name] = []
    for node in walk(scope.node):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "use":
            out += [a.value for a in node.args if isinstance(a.value, cst.Name) and a.value.value == name]
    return out


def _reaching(scope: Scope, name: str, nth: int = 0) -> Tuple[List[str], bool]:
    """The data-flow answer for the `nth` use of `name`: the definitions as source text."""
    defs, open_before = SC.scope_index(scope).reaching(name, _uses(scope, name)[nth])
    module = scope.module.tree
    return [f"{d.how}:{module.code_for_node(d.value)}{list(d.path) if d.path else ''}" for d in defs], open_before


def test_one_index_per_scope_shared_by_both_questions() -> None:
    facts = _facts(
        """
        def f(x):
            y = x
            use(y)
        """
    )
    scope = _scope(facts, "f")
    use = _uses(scope, "y")[0]
    assert D.scope_index(scope) is SC.scope_index(scope)
    assert D.ScopeIndex is SC.Index
    assert [b.value for b in SC.reaching(scope, "y", use)] == [
        d.value for d in SC.scope_index(scope).reaching("y", use)[0]
    ]


def test_augmented_assignment_is_a_definition_that_hides_nothing() -> None:
    scope = _scope(
        _facts(
            """
            def f(data):
                x = load(data)
                x /= 255
                use(x)
            """
        ),
        "f",
    )
    assert _reaching(scope, "x") == (["aug:255", "assign:load(data)"], False)


def test_nested_tuple_targets_keep_their_element_path() -> None:
    scope = _scope(
        _facts(
            """
            def f(pairs):
                a, (b, c) = pairs
                for i, (x, y) in enumerate(pairs):
                    use(c, y)
            """
        ),
        "f",
    )
    assert _reaching(scope, "c") == (["assign:pairs[1, 1]"], False)
    assert _reaching(scope, "y") == (["for:enumerate(pairs)[1, 1]"], False)
    loop = next(n for n in walk(scope.node) if isinstance(n, cst.For))
    assert SC.scope_index(scope).loops_around(_uses(scope, "y")[0]) == (id(loop),)


def test_conditional_definitions_leave_the_earlier_value_open() -> None:
    scope = _scope(
        _facts(
            """
            def f(flag, v):
                if flag:
                    v = 1
                elif other:
                    v = 2
                else:
                    pass
                use(v)
                v = 3
                use(v)
            """
        ),
        "f",
    )
    assert _reaching(scope, "v", 0) == (["assign:2", "assign:1"], True)
    assert _reaching(scope, "v", 1) == (["assign:3"], False)


def test_loop_carried_definitions_differ_between_the_two_questions() -> None:
    scope = _scope(
        _facts(
            """
            def f(loader):
                h = None
                for batch in loader:
                    use(h)
                    h = step(batch)
            """
        ),
        "f",
    )
    use = _uses(scope, "h")[0]
    # The resolver sees the value carried into the next iteration; the data flow does not.
    assert sorted(cst.Module([]).code_for_node(b.value) for b in SC.reaching(scope, "h", use)) == [
        "None",
        "step(batch)",
    ]
    assert _reaching(scope, "h") == (["assign:None"], False)


def test_a_definition_in_both_arms_of_an_if_else_hides_the_loop_carried_one() -> None:
    scope = _scope(
        _facts(
            """
            def f(loader, masked):
                for x in loader:
                    if masked:
                        out = x[:, 0]
                    else:
                        out = x
                    use(out)
                    out = out.sigmoid()
                for y in loader:
                    if masked:
                        z = y
                    use(z)
                    z = z.sigmoid()
            """
        ),
        "f",
    )

    def reaching(name: str) -> List[str]:
        return sorted(cst.Module([]).code_for_node(b.value) for b in SC.reaching(scope, name, _uses(scope, name)[0]))

    # Both arms rebind `out` before the use on every pass; one arm alone leaves the carried value.
    assert reaching("out") == ["x", "x[:, 0]"]
    assert reaching("z") == ["y", "z.sigmoid()"]


def test_reaching_outwards_stops_at_the_scope_that_defines_the_name() -> None:
    facts = _facts(
        """
        scale = 255
        def outer():
            def inner():
                use(scale)
            return inner
        """
    )
    inner = _scope(facts, "outer.<locals>.inner")
    steps = [
        (s.name, [d.how for d in defs], open_before)
        for s, defs, open_before in SC.reaching_outwards(inner, _uses(inner, "scale")[0])
    ]
    assert steps == [("outer.<locals>.inner", [], True), ("outer", [], True), ("<module>", ["assign"], False)]


def test_positions_cover_the_body_only() -> None:
    facts = _facts(
        """
        def f(x, y=default):
            try:
                z = g(x)
            except Failure as err:
                z = None
            match z:
                case [first] if first:
                    use(first)
            return z
        """
    )
    scope = _scope(facts, "f")
    idx = SC.scope_index(scope)
    names = {n.value: n for n in walk(scope.node) if isinstance(n, cst.Name)}

    def where(name: str) -> Optional[SC.Position]:
        return idx.position(names[name])

    assert where("default") is None  # a parameter default runs outside the body
    assert where("err") is None and where("first") is None  # `as` names and patterns
    z_def, z_except = idx.defs["z"]
    failure = where("Failure")
    assert failure is not None
    # an `except` type is read after the `try` body, before its handler's body
    assert (failure.order, failure.blocks) == (z_def.order, z_def.blocks)
    assert z_except.order > failure.order and len(z_except.blocks) == 1
    assert SC.scope_of_node(facts, names["Failure"]) is scope
    assert D.scope_of_node(facts, names["default"]) is None
