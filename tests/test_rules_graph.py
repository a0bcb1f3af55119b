"""TL601-TL604: detached losses, hand-written updates, losses kept with their graph.

Which lines fire, and which code must stay silent, is tested by the fixtures under
`tests/rules/TL601` ... `tests/rules/TL604` (run by `tests/test_rule_fixtures.py`). Here the
same fixtures are checked for what a line number cannot show: the related locations and what
the messages say.
"""

from __future__ import annotations

from typing import List, Tuple

import pytest

from tests.test_rule_fixtures import FIXTURES, RULES_DIR, Fixture, expected_findings, load_fixture, run_fixture
from trainlint.diagnostics import Diagnostic
from trainlint.testing import lint_source


def _findings(fixture: Fixture) -> List[Diagnostic]:
    return [d for d in run_fixture(fixture).diagnostics if d.code == fixture.code]


def _the_finding(code: str, name: str) -> Tuple[Fixture, Diagnostic]:
    fixture = load_fixture(code, RULES_DIR / code / f"{name}.py")
    # Which line fires is the fixture test's business; here only that there is one finding to read.
    (found,) = _findings(fixture)
    return fixture, found


def _firing(code: str, single_file: bool = False) -> List[Fixture]:
    return [
        f for f in FIXTURES if f.code == code and expected_findings(f) and not (single_file and f.location.is_dir())
    ]


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.id) for f in _firing("TL601", single_file=True)])
def test_tl601_points_where_the_value_left_the_graph(fixture: Fixture) -> None:
    (found,) = _findings(fixture)
    assert found.related, f"{fixture.id}: no related location"


def test_tl602_groups_parameters_updated_the_same_way() -> None:
    fixture, found = _the_finding("TL602", "gradient_ascent")
    lines = fixture.files["train.py"].splitlines()
    assert [lines[r.line - 1].strip() for r in found.related] == ["b += lr * b.grad"]
    assert "ascent" in found.message and "-=" in found.message


def test_tl602_messages_differ_by_problem() -> None:
    _, rebind = _the_finding("TL602", "rebinding_in_function")
    _, grad_on = _the_finding("TL602", "update_outside_no_grad")
    assert "leaf" in rebind.message and "no_grad" in grad_on.message


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.id) for f in _firing("TL604")])
def test_tl604_message_says_to_take_item(fixture: Fixture) -> None:
    found = _findings(fixture)
    # A slot of a tensor buffer takes a cut copy (`.detach()`); anything else keeps a number.
    assert found and all(
        (".detach()" if "writing into the tensor" in f.message else ".item()") in f.message for f in found
    )


def test_tl606_says_which_value_is_activated_and_the_fix() -> None:
    _, found = _the_finding("TL606", "torch_without_autograd")
    assert "`z` is the pre-activation fed to sigmoid" in found.message
    assert "expects the sigmoid output" in found.message and "`sigmoid_grad(p)`" in found.message
    fixture = load_fixture("TL606", RULES_DIR / "TL606" / "derivative_reapplies_sigmoid.py")
    first = sorted(_findings(fixture), key=lambda d: d.span.line)[0]
    assert "`a2` is already a sigmoid output" in first.message and "`a2 * (1 - a2)`" in first.message
    lines = fixture.files["train.py"].splitlines()
    assert [lines[r.line - 1].strip() for r in first.related] == ["a2 = sigmoid(z2)", "def sigmoid_derivative(x):"]


def test_tl606_inline_tanh_message() -> None:
    fixture = load_fixture("TL606", RULES_DIR / "TL606" / "inline_activation_of_output.py")
    tanh = [d for d in _findings(fixture) if "tanh" in d.message]
    assert len(tanh) == 1 and "`1 - h ** 2`" in tanh[0].message


def test_tl606_numpy_only_files_are_not_skipped() -> None:
    from trainlint.plan import skippable

    source = b"import numpy as np\n\nh = np.tanh(np.ones(3))\nd = 1 - np.tanh(h) ** 2\n"
    assert not skippable("net.py", source)


def test_tl607_names_what_is_written_the_window_and_the_fix() -> None:
    src = load_fixture("TL607", RULES_DIR / "TL607" / "clip_between_forward_and_backward.py").files["train.py"]
    (d,) = [d for d in lint_source(src, select=["TL607"]) if d.code == "TL607"]
    assert "the parameters of `critic`" in d.message and "before `loss_c.backward()`" in d.message
    assert "after `optimizer.step()`" in d.message and "torch.no_grad()" in d.message
    lines = src.splitlines()
    assert [lines[r.line - 1].strip() for r in d.related] == [
        "loss_c = critic(fake).mean() - critic(real).mean()",
        "loss_c.backward()",
    ]


def test_tl607_tells_an_output_write_to_use_an_operation_autograd_follows() -> None:
    src = load_fixture("TL607", RULES_DIR / "TL607" / "output_and_weight_written.py").files["train.py"]
    out, weight = [d for d in lint_source(src, select=["TL607"]) if d.code == "TL607"]
    assert "the output `out` of `model`" in out.message and "masked_fill" in out.message
    assert "the parameter `model.fc.weight` of `model`" in weight.message


def test_tl605_says_what_the_misspelt_flag_changes() -> None:
    fixture = load_fixture("TL605", RULES_DIR / "TL605" / "flag_misspelt_on_a_new_constant_tensor.py")
    table, parameter = sorted(_findings(fixture), key=lambda d: d.line)
    # (a new tensor from a factory: no gradients either way, so no promise that it trains)
    assert "does nothing" in table.message and "`torch.zeros`" in table.message
    assert "still gets gradients" not in table.message
    assert "still gets gradients" in parameter.message
