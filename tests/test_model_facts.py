"""Model facts (layers, what `forward` returns) and the value flow of tensors."""

from __future__ import annotations

import textwrap
from typing import Dict, Optional, Tuple

import libcst as cst
import pytest

from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.project import Project
from trainlint.analysis.symbols import Resolver
from trainlint.engine import load_file

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def build(files: Dict[str, str]) -> Tuple[Project, Resolver, Dict[str, ModuleFacts]]:
    mods: Dict[str, ModuleFacts] = {}
    for path, text in files.items():
        loaded = load_file(path, textwrap.dedent(text).encode())
        assert loaded.facts is not None, loaded.error
        mods[path] = loaded.facts
    project = Project(list(mods.values()))
    return project, Resolver(project), mods


def facts_of(src: str, cls: str = "Net") -> Tuple[M.ModelFacts, Resolver]:
    project, resolver, mods = build({"models.py": HEADER + textwrap.dedent(src)})
    return M.class_facts(mods["models.py"].classes[cls], project), resolver


def output_kind(src: str, cls: str = "Net") -> Optional[str]:
    facts, resolver = facts_of(src, cls)
    out = facts.output(resolver)
    return out.kind if out is not None else None


# ---------------------------------------------------------------------------- layers


def test_layers_declared_in_init_including_containers_and_add_module() -> None:
    facts, _ = facts_of(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 8)
                self.body = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Dropout(0.1))
                self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 3)])
                self.named = nn.ModuleDict({"a": nn.Conv2d(1, 1, 3), "b": nn.BatchNorm2d(1)})
                self.add_module("extra", nn.Tanh())
                self.scale = 2.0
        """
    )
    assert facts.layer("fc").type_name == "Linear"  # type: ignore[union-attr]
    assert [c.type_name for c in facts.layer("body").children] == ["Linear", "ReLU", "Dropout"]  # type: ignore[union-attr]
    assert [c.type_name for c in facts.layer("heads").children] == ["Linear", "Linear"]  # type: ignore[union-attr]
    assert [c.type_name for c in facts.layer("named").children] == ["Conv2d", "BatchNorm2d"]  # type: ignore[union-attr]
    assert facts.layer("extra").type_name == "Tanh"  # type: ignore[union-attr]
    assert facts.layer("scale") is None
    walked = {layer.type_name for layer in facts.walk()}
    assert {"Linear", "ReLU", "Dropout", "Conv2d", "BatchNorm2d", "Tanh"} <= walked


def test_layers_of_submodule_classes_and_comprehensions_are_walked() -> None:
    facts, _ = facts_of(
        """
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.BatchNorm1d(8)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList(Block() for _ in range(3))
        """
    )
    blocks = facts.layer("blocks")
    assert blocks is not None and blocks.dynamic
    assert facts.mode_dependent_layer() is not None
    assert facts.mode_dependent_layer().type_name == "BatchNorm1d"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "decl, expected",
    [
        ("nn.Dropout(0.2)", True),
        ("nn.Dropout(p=0.0)", False),
        ("nn.BatchNorm2d(4)", True),
        ("nn.TransformerEncoderLayer(8, 2)", True),
        ("nn.TransformerEncoderLayer(8, 2, dropout=0)", False),
        ("nn.LSTM(8, 8, num_layers=2, dropout=0.3)", True),
        ("nn.LSTM(8, 8)", False),
        ("nn.LayerNorm(8)", False),
    ],
)
def test_mode_dependent_layers(decl: str, expected: bool) -> None:
    facts, _ = facts_of(
        f"""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.layer = {decl}
        """
    )
    assert (facts.mode_dependent_layer() is not None) is expected


def test_subclass_inherits_layers_and_forward() -> None:
    src = """
        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.5)

            def forward(self, x):
                return F.log_softmax(self.head(self.drop(x)), dim=1)

        class Net(Base):
            def __init__(self):
                super().__init__()
                self.head = nn.Linear(8, 2)
        """
    facts, resolver = facts_of(src)
    assert facts.layer("drop") is not None and facts.layer("head") is not None
    assert facts.forward is not None and facts.forward.name == "Base.forward"
    assert facts.output(resolver).kind == M.LOG_SOFTMAX  # type: ignore[union-attr]


def test_facts_are_memoised_per_class_and_run() -> None:
    files = {"models.py": HEADER + "class Net(nn.Module):\n    pass\n"}
    project, resolver, mods = build(files)
    cls = mods["models.py"].classes["Net"]
    first = M.class_facts(cls, project)
    assert M.class_facts(cls, project) is first
    # Facts that read other files belong to the run's project, not to the module: dropping the
    # module's own memos keeps them.
    mods["models.py"].forget()
    assert M.class_facts(cls, project) is first
    other, _, _ = build(files)
    assert M.class_facts(cls, other) is not first


# ---------------------------------------------------------------------------- what forward returns


FORWARD = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.head = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Dropout(0.1))
        self.act = nn.Softmax(dim=1)

    def forward(self, x):
        {body}
"""


@pytest.mark.parametrize(
    "body, kind",
    [
        ("return F.softmax(self.fc(x), dim=1)", M.SOFTMAX),
        ("return torch.softmax(self.fc(x), 1)", M.SOFTMAX),
        ("return self.fc(x).softmax(dim=-1)", M.SOFTMAX),
        ("return self.act(self.fc(x))", M.SOFTMAX),
        ("return F.log_softmax(self.fc(x), dim=1)", M.LOG_SOFTMAX),
        ("return torch.sigmoid(self.fc(x))", M.SIGMOID),
        ("return torch.tanh(self.fc(x))", M.TANH),
        ("return F.relu(self.fc(x))", M.RELU),
        ("return self.fc(x)", M.LINEAR),
        ("return self.fc(x).squeeze(-1)", M.LINEAR),
        ("return self.head(x)", M.SIGMOID),  # the Sequential's last layer, past the Dropout
        ("h = self.fc(x)\n        out = F.softmax(h, dim=1)\n        return out", M.SOFTMAX),
        ("x = self.fc(x)\n        x = torch.sigmoid(x)\n        return x", M.SIGMOID),
        ("return self.fc(x), x", M.TUPLE),
        ("return self.fc(x) * 2", M.LINEAR),  # raw scores times a number: still raw scores
        ("return self.fc(x) + x", None),  # other arithmetic: not judged
        ("return some_library(x)", None),
    ],
)
def test_forward_output_kind(body: str, kind: Optional[str]) -> None:
    assert output_kind(FORWARD.format(body=body)) == kind


def test_returns_that_disagree_are_unknown_and_agreeing_ones_known() -> None:
    disagree = FORWARD.format(
        body="if self.training:\n            return self.fc(x)\n        return F.softmax(self.fc(x), dim=1)"
    )
    assert output_kind(disagree) is None
    agree = FORWARD.format(
        body="if self.training:\n            return F.softmax(self.fc(x), 1)\n        return self.fc(x).softmax(1)"
    )
    assert output_kind(agree) == M.SOFTMAX


def test_conditional_reassignment_is_unknown() -> None:
    body = "out = self.fc(x)\n        if not self.training:\n            out = out.softmax(dim=-1)\n        return out"
    assert output_kind(FORWARD.format(body=body)) is None


def test_tuple_elements_keep_their_kinds() -> None:
    facts, resolver = facts_of(FORWARD.format(body="return F.softmax(self.fc(x), 1), self.fc(x)"))
    out = facts.output(resolver)
    assert out is not None and out.kind == M.TUPLE
    assert [e.kind for e in out.elements if e is not None] == [M.SOFTMAX, M.LINEAR]
    assert all(e is not None and e.owner == "Net.forward" for e in out.elements)


def test_sequential_literal_bound_to_a_name() -> None:
    project, resolver, mods = build(
        {
            "train.py": HEADER
            + "model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2), nn.LogSoftmax(dim=1))\nout = model(torch.randn(2, 3))\n"
        }
    )
    mod = mods["train.py"]
    call = next(c for c in mod.toplevel.calls if isinstance(c.func, cst.Name) and c.func.value == "model")
    op = FL.tracer_for(project, resolver).op(call, mod.toplevel)
    assert op is not None and op.kind == M.LOG_SOFTMAX and op.owner == "nn.Sequential"


# ---------------------------------------------------------------------------- value flow


def _loss_input_kinds(files: Dict[str, str]) -> Dict[str, Optional[str]]:
    project, resolver, mods = build(files)
    tracer = FL.tracer_for(project, resolver)
    out: Dict[str, Optional[str]] = {}
    for mod in mods.values():
        for lc in FL.loss_calls(mod, resolver):
            op = tracer.op(lc.input, lc.scope) if lc.input is not None else None
            out[lc.name] = op.kind if op is not None else None
    return out


def test_flow_crosses_files_and_call_site_arguments() -> None:
    models = HEADER + textwrap.dedent(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.out = nn.Linear(8, 3)

            def forward(self, x):
                return F.softmax(self.out(x), dim=1)
        """
    )
    train = HEADER + textwrap.dedent(
        """
        from models import Net

        def train_one_epoch(model, loader, optimizer, criterion):
            for x, y in loader:
                outputs = model(x)
                loss = criterion(outputs, y)

        def main():
            model = Net()
            criterion = nn.CrossEntropyLoss()
            train_one_epoch(model, [], None, criterion)
        """
    )
    assert _loss_input_kinds({"models.py": models, "train.py": train}) == {"CrossEntropyLoss": M.SOFTMAX}


def test_loss_known_only_by_name_is_not_a_loss_call() -> None:
    train = HEADER + "def step(model, criterion, x, y):\n    return criterion(model(x), y)\n"
    assert _loss_input_kinds({"train.py": train}) == {}


def test_reaching_definitions_follow_order() -> None:
    src = HEADER + textwrap.dedent(
        """
        model = nn.Linear(3, 3)
        out = model(torch.randn(2, 3))
        loss = F.cross_entropy(out, torch.tensor([0, 1]))
        out = F.softmax(out, dim=1)
        """
    )
    assert _loss_input_kinds({"train.py": src}) == {"F.cross_entropy": M.LINEAR}


def test_label_evidence_through_a_data_loader() -> None:
    src = HEADER + textwrap.dedent(
        """
        from torch.utils.data import DataLoader, TensorDataset

        def make(n):
            return TensorDataset(torch.randn(n, 4), torch.randint(0, 3, (n,)))

        loader = DataLoader(make(64), batch_size=8)
        model = nn.Linear(4, 1)
        for xb, yb in loader:
            loss = F.mse_loss(model(xb).squeeze(1), yb.float())
        """
    )
    project, resolver, mods = build({"train.py": src})
    (lc,) = FL.loss_calls(mods["train.py"], resolver)
    assert lc.target is not None
    ev = FL.LabelTracer(project, resolver).evidence(lc.target, lc.scope)
    assert ev is not None and ev.kind == "class_ids" and "randint" in ev.text()


def test_inherited_step_is_read_for_each_subclass() -> None:
    base = HEADER + textwrap.dedent(
        """
        class Base(nn.Module):
            def step(self, x, y):
                return self.criterion(self(x), y)
        """
    )
    subs = HEADER + textwrap.dedent(
        """
        from base import Base

        class Soft(Base):
            def __init__(self):
                super().__init__()
                self.criterion = nn.CrossEntropyLoss()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x).softmax(dim=1)

        class Own(Base):
            def __init__(self):
                super().__init__()
                self.criterion = nn.MSELoss()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return torch.sigmoid(self.fc(x))

            def step(self, x, y):
                return self.criterion(self.fc(x), y)
        """
    )
    project, resolver, mods = build({"base.py": base, "subs.py": subs})
    assert FL.loss_calls(mods["base.py"], resolver) == []  # the base alone: no criterion
    tracer = FL.tracer_for(project, resolver)
    found = FL.inherited_loss_calls(mods["subs.py"], resolver)
    assert [(lc.receiver.name if lc.receiver else None, lc.name) for lc in found] == [("Soft", "CrossEntropyLoss")]
    (lc,) = found
    assert lc.input is not None and lc.module is mods["base.py"]
    op = tracer.op(lc.input, lc.scope, lc.receiver)
    assert op is not None and op.kind == M.SOFTMAX and op.owner == "Soft.forward"
    assert tracer.op(lc.input, lc.scope) is None  # read for the base itself: no forward


def test_loss_attribute_chosen_by_the_same_test_as_the_call() -> None:
    src = HEADER + textwrap.dedent(
        """
        class Head(nn.Module):
            def __init__(self, discrete, mode):
                super().__init__()
                self.discrete = discrete
                self.mode = mode
                if self.discrete:
                    self.loss = nn.CrossEntropyLoss()
                else:
                    self.loss = nn.MSELoss()

            def forward(self, h, a):
                if self.discrete:
                    first = self.loss(h, a)
                else:
                    second = self.loss(h, a)
                if self.mode == "x":
                    third = self.loss(h, a)
                return self.loss(h, a)

            def set_mode(self, mode):
                self.mode = mode
        """
    )
    _, resolver, mods = build({"head.py": src})
    mod = mods["head.py"]
    lines = src.splitlines()
    found = {}
    for lc in FL.loss_calls(mod, resolver):
        pos = FL.position(mod, lc.node)
        assert pos is not None
        found[lines[pos.start.line - 1].split("=")[0].strip()] = lc.name
    # the arms of the `__init__` test only: `self.mode` changes after `__init__`, and the
    # unguarded call may see either loss
    assert found == {"first": "CrossEntropyLoss", "second": "MSELoss"}


def test_an_import_names_a_package_of_the_project_not_the_importing_module_itself() -> None:
    # `utils/model.py` (a folder without `__init__.py`) doing `from model import Net` means the
    # package `model/`, even though its own name ends in `model` and sits in its own folder
    project, _, mods = build(
        {
            "model/__init__.py": "from .net import Net\n",
            "model/net.py": HEADER + "class Net(nn.Module):\n    pass\n",
            "utils/model.py": "from model import Net\n\ndef get_model():\n    return Net()\n",
        }
    )
    found = project.lookup("model.Net", mods["utils/model.py"])
    assert found is not None and found.name == "Net"
    assert project.find_module("model", mods["utils/model.py"]) is mods["model/__init__.py"]


def test_callers_of_a_method_are_found_again_after_a_typing_cut_short() -> None:
    """`val.predict_model(...)` reaches `Evaler.predict_model` once `val` is typed. When the
    callers are first asked while another typing is under way, typing `val` is cut short: that
    incomplete answer must not be kept, or a later question (is every caller under `no_grad`?)
    sees no caller at all."""
    project, resolver, mods = build(
        {
            "evaler.py": HEADER
            + "class Evaler:\n    def predict_model(self, model, loader):\n        return [model(x) for x in loader]\n",
            "run.py": HEADER
            + "from evaler import Evaler\n\n\n@torch.no_grad()\ndef run(model, loader):\n"
            + "    val = Evaler()\n    return val.predict_model(model, loader)\n",
        }
    )
    method = mods["evaler.py"].classes["Evaler"].methods["predict_model"]
    resolver._typing = 2  # (as inside two nested typings: receivers are not typed now)
    assert project.callers(method) == []
    resolver._typing = 0
    assert [s.name for s, _ in project.callers(method)] == ["run"]
