"""TL2xx: what the loss is fed (softmax/sigmoid before the loss, raw scores to BCE/NLL,
class labels to a regression loss, squashing last layers) and softmax without dim.

Which lines fire, and which code must stay silent, is tested by the fixtures under
`tests/rules/TL201` ... `tests/rules/TL207` (run by `tests/test_rule_fixtures.py`). Here the
same fixtures are checked for what a line number cannot show: what the messages say, the
related locations that point into the model's module, the severity and the column.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import pytest

from tests.test_rule_fixtures import FIXTURES, RULES_DIR, Fixture, expected_findings, load_fixture, run_fixture
from trainlint.diagnostics import Diagnostic, Severity


def _fixture(fixture_id: str) -> Fixture:
    code, name = fixture_id.split("/")
    folder = RULES_DIR / code
    entry = folder / name if (folder / name).is_dir() else folder / f"{name}.py"
    return load_fixture(code, entry)


def _findings(fixture: Fixture) -> List[Diagnostic]:
    return [d for d in run_fixture(fixture).diagnostics if d.code == fixture.code]


def _the_finding(fixture_id: str) -> Tuple[Fixture, Diagnostic]:
    fixture = _fixture(fixture_id)
    # Which line fires is the fixture test's business; here only that there is one finding to read.
    (found,) = _findings(fixture)
    return fixture, found


def _line_of(text: str, needle: str) -> int:
    [line] = [n for n, source in enumerate(text.splitlines(), start=1) if needle in source]
    return line


# What each message must contain: the mistake and its fix, in the user's own names.
MESSAGE_PARTS: Dict[str, Tuple[str, ...]] = {
    "TL201/softmax_model_in_other_module": ("CrossEntropyLoss", "raw", "logits"),
    "TL201/softmax_computed_before_criterion_trainer": ("logits.softmax(dim=-1)",),
    "TL201/sequential_ending_in_softmax": ("nn.Softmax(dim=1)", "last layer"),
    "TL201/sequential_ending_in_log_softmax": ("NLLLoss",),
    "TL202/sigmoid_model_in_other_module": ("`FraudNet.forward` (models.py:",),
    "TL203/linear_head_in_other_module": ("BCEWithLogitsLoss", "ClickModel.forward"),
    "TL204/raw_scores_to_nll_loss": ("log_softmax", "raw scores"),
    "TL204/softmax_to_nll_loss": ("probabilities",),
    "TL204/softmax_model_in_other_module": ("Net.forward",),
    "TL205/one_hot_target_to_mse": ("one-hot", "CrossEntropyLoss"),
    "TL205/rounded_scores_counted_as_correct": ("class predictions",),
    "TL205/criterion_built_in_main_randint_labels": ("randint",),
    "TL206/relu_last_layer_before_cross_entropy": ("ReLU", "nn.Linear"),
    "TL206/sigmoid_head_in_other_module": ("Tagger.forward", "nn.Sigmoid()"),
}
# Every softmax without dim is told to pass one.
MESSAGE_PARTS.update({f.id: ("dim=",) for f in FIXTURES if f.code == "TL207" and expected_findings(f)})


@pytest.mark.parametrize("fixture_id", sorted(MESSAGE_PARTS))
def test_message_names_the_mistake_and_the_fix(fixture_id: str) -> None:
    _, found = _the_finding(fixture_id)
    for part in MESSAGE_PARTS[fixture_id]:
        assert part in found.message, f"{fixture_id}: {part!r} not in {found.message!r}"


def test_tl201_points_at_the_softmax_in_the_model_module() -> None:
    fixture, found = _the_finding("TL201/softmax_model_in_other_module")
    softmax_line = _line_of(fixture.files["models.py"], "F.softmax")
    # The message names both ends; the model end and the loss's construction are related locations.
    assert f"`Net.forward` (models.py:{softmax_line})" in found.message
    assert ("models.py", softmax_line) in [(r.path, r.line) for r in found.related]
    assert any(r.path == "train.py" and "built here" in r.message for r in found.related)
    assert found.severity == Severity.ERROR


def test_tl201_inline_softmax_is_reported_at_the_softmax_call() -> None:
    fixture, found = _the_finding("TL201/softmax_inline_in_cross_entropy")
    line = fixture.files["train.py"].splitlines()[found.line - 1]
    assert found.span.column == line.index("F.softmax(") + 1 == len("loss = F.cross_entropy(") + 1


def test_tl201_log_softmax_before_cross_entropy_is_a_warning() -> None:
    _, found = _the_finding("TL201/sequential_ending_in_log_softmax")
    assert found.severity == Severity.WARNING


@pytest.mark.parametrize(
    "fixture_id",
    ["TL201/lightning_softmax_only_in_validation_loss", "TL201/softmax_model_cross_entropy_only_under_no_grad"],
)
def test_tl201_a_loss_nothing_trains_on_is_a_warning_about_the_reported_figure(fixture_id: str) -> None:
    _, found = _the_finding(fixture_id)
    assert found.severity == Severity.WARNING
    assert "validation loss you monitor" in found.message and "training stalls" not in found.message


def test_tl201_a_training_loss_on_the_same_softmax_keeps_the_error() -> None:
    _, found = _the_finding("TL201/training_step_calls_softmax_forward")
    assert found.severity == Severity.ERROR and "training stalls" in found.message


def test_tl202_related_location_is_in_the_model_module() -> None:
    _, found = _the_finding("TL202/sigmoid_model_in_other_module")
    assert any(r.path == "models.py" for r in found.related)


def test_tl201_names_where_forward_applies_a_softmax_layer_built_in_init() -> None:
    from trainlint.testing import lint_files

    models = (
        "import torch.nn as nn\n"
        "\n"
        "\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(8, 3)\n"
        "        self.softmax = nn.Softmax(dim=1)\n"
        "\n"
        "    def forward(self, x):\n"
        "        logits = self.fc(x)\n"
        "        probs = self.softmax(logits)\n"
        "        return probs\n"
    )
    train = (
        "import torch\n"
        "import torch.nn as nn\n"
        "from models import Net\n"
        "\n"
        "model = Net()\n"
        "criterion = nn.CrossEntropyLoss()\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for x, y in [(torch.randn(4, 8), torch.randint(0, 3, (4,)))]:\n"
        "    opt.zero_grad()\n"
        "    criterion(model(x), y).backward()\n"
        "    opt.step()\n"
    )
    (d,) = [d for d in lint_files({"models.py": models, "train.py": train}, ["TL201"]) if d.code == "TL201"]
    spots = {(r.path.rsplit("/", 1)[-1], r.line): r.message for r in d.related}
    assert spots[("models.py", 8)] == "`nn.Softmax(dim=1)` is built here"
    assert spots[("models.py", 12)] == "`self.softmax(logits)` applies it in the model's forward"
