"""Real-code shapes the value-flow analysis must follow (a model rebound with `.to(dev)`, a
Sequential built in steps, a loss reached through an alias or a wrapper class, optimizers
kept in a list, ...). Each program is a minimal version, written here, of a shape that
public training code uses and that once hid a bug from the rules (or raised a false one)."""

from __future__ import annotations

import textwrap
from typing import List

import pytest

from trainlint.testing import lint_source

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nloader = []\n"

SOFTMAX_NET = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.act = nn.Softmax(dim=1)

    def forward(self, x):
        return self.act(self.fc(x))
"""

TRAIN = """
criterion = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
"""


def program(*parts: str) -> str:
    return HEADER + "".join(textwrap.dedent(part) for part in parts)


def codes(*parts: str) -> List[str]:
    """The codes reported on a program made of `parts` (each dedented on its own)."""
    return sorted({d.code for d in lint_source(program(*parts))})


# -- rebinding keeps what the model is ------------------------------------------------------

REBINDINGS = {
    "to-device": "model = Net()\nmodel = model.to('cuda')\n",
    "cuda": "model = Net()\nmodel = model.cuda()\n",
    "half": "model = Net().half()\n",
    "data-parallel": "model = Net()\nmodel = nn.DataParallel(model)\n",
    "ddp": "from torch.nn.parallel import DistributedDataParallel as DDP\nmodel = Net()\nmodel = DDP(model)\n",
    "compile": "model = Net()\nmodel = torch.compile(model)\n",
    "accelerate": (
        "from accelerate import Accelerator\naccelerator = Accelerator()\nmodel = Net()\n"
        "opt0 = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "model, opt0, loader = accelerator.prepare(model, opt0, loader)\n"
    ),
    "fabric": "import lightning as L\nfabric = L.Fabric()\nmodel = Net()\nmodel = fabric.setup(model)\n",
    "deepspeed": "import deepspeed\nmodel = Net()\nmodel, _, _, _ = deepspeed.initialize(model=model, model_parameters=model.parameters())\n",
}


@pytest.mark.parametrize("shape", sorted(REBINDINGS))
def test_a_rebound_model_keeps_its_softmax_head(shape: str) -> None:
    assert "TL201" in codes(SOFTMAX_NET, REBINDINGS[shape], TRAIN)


def test_reloading_the_model_after_training_does_not_erase_what_it_was() -> None:
    assert "TL201" in codes(SOFTMAX_NET, "model = Net()\n", TRAIN, "model = torch.load('best.pt')\n")


def test_a_model_handed_to_a_function_out_of_sight_and_bound_back_keeps_its_class() -> None:
    # `model = drop_layers(model, n)`: pruned, wrapped or patched, still the model
    rebound = "from tools import drop_layers\nmodel = Net()\nmodel = drop_layers(model, 0)\n"
    assert "TL201" in codes(SOFTMAX_NET, rebound, TRAIN)


@pytest.mark.parametrize("loader", ["load_from_checkpoint", "from_pretrained"])
def test_a_project_model_loaded_by_its_class_method_is_that_class(loader: str) -> None:
    assert "TL201" in codes(SOFTMAX_NET, f"model = Net.{loader}('weights')\n", TRAIN)


def test_a_model_reloaded_through_its_own_class_in_a_loop_does_not_recurse() -> None:
    # `model = type(model).load_from_checkpoint(p)` reaches itself through the loop
    reloaded = "model = Net()\nfor p in ['a.ckpt', 'b.ckpt']:\n    model = type(model).load_from_checkpoint(p)\n"
    save = "torch.save(model, 'best.pt')\nmodel.load_state_dict(torch.load('best.pt'))\n"
    assert "TL002" not in codes(SOFTMAX_NET, reloaded, TRAIN, save)


def test_a_model_put_in_training_mode_inside_the_loop_keeps_its_softmax_head() -> None:
    assert "TL201" in codes(SOFTMAX_NET, "model = Net()\n", TRAIN.replace("opt.zero_grad()", "model = model.train()"))


def test_a_result_bound_to_another_name_is_not_the_model() -> None:
    other = "from tools import wrap\nnet = Net()\nmodel = wrap(net)\n"
    assert "TL201" not in codes(SOFTMAX_NET, other, TRAIN)


def test_a_rebound_model_of_another_class_is_not_the_softmax_model() -> None:
    assert "TL201" not in codes(SOFTMAX_NET, "model = Net()\nmodel = nn.Linear(4, 3)\n", TRAIN)


# -- models built in steps ------------------------------------------------------------------


def test_add_module_on_a_sequential() -> None:
    src = """
    model = nn.Sequential()
    model.add_module("fc", nn.Linear(4, 3))
    model.add_module("probs", nn.Softmax(dim=1))
    """
    assert "TL201" in codes(src, TRAIN)


def test_layers_appended_then_unpacked_into_a_sequential() -> None:
    src = """
    layers = []
    for width in (8, 8):
        layers += [nn.LazyLinear(width), nn.ReLU()]
    layers.append(nn.Linear(8, 3))
    layers.append(nn.Softmax(dim=1))
    model = nn.Sequential(*layers)
    """
    assert "TL201" in codes(src, TRAIN)


def test_a_conditional_last_layer_is_not_known() -> None:
    src = """
    import sys
    layers = [nn.Linear(4, 3)]
    if sys.argv[1] == "probs":
        layers.append(nn.Softmax(dim=1))
    model = nn.Sequential(*layers)
    """
    assert "TL201" not in codes(src, TRAIN)


def test_model_from_a_factory_function() -> None:
    src = """
    def build():
        return nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))

    model = build()
    """
    assert "TL201" in codes(src, TRAIN)


def test_if_else_choice_between_classes_judges_each_alternative() -> None:
    src = """
    import sys

    class A(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    class B(A):
        def forward(self, x):
            return torch.softmax(self.fc(x), dim=-1)

    class C(A):
        def forward(self, x):
            return self.fc(x)

    model = A() if sys.argv[1] == "a" else B()
    other = A() if sys.argv[1] == "a" else C()
    """
    found = lint_source(program(src, TRAIN, TRAIN.replace("model", "other")))
    # A's softmax is one defect, whichever variable holds an A; B's is another.
    assert sorted(d.message.split("`")[3] for d in found if d.code == "TL201") == ["A.forward", "B.forward"]
    # Only C (raw scores) can be built: nothing to report.
    only_c = src.replace('model = A() if sys.argv[1] == "a" else B()', "model = C()").replace(
        'A() if sys.argv[1] == "a" else C()', "C()"
    )
    assert "TL201" not in codes(only_c, TRAIN)


def test_each_model_of_a_run_time_choice_meets_the_loss_on_its_own() -> None:
    """A word-language-model script picks an RNN (raw scores) or a Transformer (log_softmax)
    by a flag: with `CrossEntropyLoss` the Transformer path applies log_softmax twice, with
    `NLLLoss` the RNN path feeds raw scores."""
    src = """
    import sys

    class RNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = nn.Linear(4, 3)

        def forward(self, x):
            return self.decoder(x)

    class Transformer(RNN):
        def forward(self, x):
            return F.log_softmax(self.decoder(x), dim=-1)

    if sys.argv[1] == "transformer":
        model = Transformer().to("cpu")
    else:
        model = RNN().to("cpu")
    """
    assert codes(src, TRAIN) == ["TL201"]
    assert codes(src, TRAIN.replace("nn.CrossEntropyLoss()", "nn.NLLLoss()")) == ["TL204"]


CHOSEN_MODELS = """
import sys

class RNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.GRU(4, 4)
        self.decoder = nn.Linear(4, 3)

    def forward(self, x, hidden):
        out, hidden = self.cell(x, hidden)
        return self.decoder(out), hidden

class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = nn.Linear(4, 3)

    def forward(self, x, has_mask=True):
        return F.log_softmax(self.decoder(x), dim=-1)

if sys.argv[1] == "transformer":
    model = Transformer()
else:
    model = RNN()
criterion = nn.CrossEntropyLoss()
hidden = None
for x, y in loader:
    if sys.argv[1] == "transformer":
        output = model(x)
    else:
        output, hidden = model(x, hidden)
    loss = criterion(output.view(-1, 3), y)
    loss.backward()
"""


def test_a_loop_that_calls_each_chosen_model_its_own_way() -> None:
    """The same script, its loop calling the Transformer with the tokens only and the RNN with
    its hidden state, unpacking the pair it returns: `model(x)` can only be the Transformer
    (the RNN needs `hidden`), and the unpacked `output` only the RNN's scores."""
    assert codes(CHOSEN_MODELS) == ["TL201"]
    assert codes(CHOSEN_MODELS.replace("nn.CrossEntropyLoss()", "nn.NLLLoss()")) == ["TL204"]
    both_log = CHOSEN_MODELS.replace(
        "return self.decoder(out), hidden", "return F.log_softmax(self.decoder(out), 1), hidden"
    )
    assert codes(both_log.replace("nn.CrossEntropyLoss()", "nn.NLLLoss()")) == []
    # Two models held by two variables, one per branch: not one choice, so not judged.
    two_vars = CHOSEN_MODELS.replace("    model = Transformer()", "    tmodel = Transformer()").replace(
        "output = model(x)\n", "output = tmodel(x)\n"
    )
    assert "TL201" not in codes(two_vars)
    # A `**kwargs` forward takes any call: the RNN stays possible for `model(x)`, the
    # definitions disagree, nothing is known.
    assert (
        codes(CHOSEN_MODELS.replace("def forward(self, x, hidden):", "def forward(self, x, hidden=None, **kw):")) == []
    )


def test_a_library_fed_the_model_and_a_criterion() -> None:
    src = """
    from skorch import NeuralNet

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, X):
            return F.softmax(self.fc(X), dim=-1)

    net = NeuralNet(Net, criterion=nn.CrossEntropyLoss)
    """
    assert codes(src) == ["TL201"]
    assert codes(src.replace("criterion=nn.CrossEntropyLoss", "criterion=nn.CrossEntropyLoss()")) == ["TL201"]
    assert codes(src.replace("NeuralNet(Net,", "NeuralNet(module=Net(),")) == ["TL201"]
    # skorch takes the log of the output itself for an NLL criterion.
    assert codes(src.replace("nn.CrossEntropyLoss", "nn.NLLLoss")) == []
    assert codes(src.replace("criterion=nn.CrossEntropyLoss", "max_epochs=3")) == []
    # A project trainer is traced where it calls the loss, not guessed from its arguments.
    project = src.replace(
        "from skorch import NeuralNet",
        "class NeuralNet:\n        def __init__(self, m, criterion):\n            pass\n",
    )
    assert codes(project) == []


# -- losses reached indirectly --------------------------------------------------------------

SIGMOID_MODEL = (
    "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
)


def test_a_functional_loss_held_in_a_variable() -> None:
    src = """
    loss_func = F.binary_cross_entropy_with_logits
    for x, y in loader:
        opt.zero_grad()
        loss_func(model(x), y).backward()
        opt.step()
    """
    assert "TL202" in codes(SIGMOID_MODEL, src)


def test_criterion_forward_called_explicitly() -> None:
    assert "TL201" in codes(
        SOFTMAX_NET, "model = Net()\n", TRAIN.replace("criterion(model(x), y)", "criterion.forward(model(x), y)")
    )


@pytest.mark.parametrize(
    "holder",
    [
        "class Trainer:\n    criterion = nn.CrossEntropyLoss()\n\n    def __init__(self, model):\n",
        "class Trainer:\n    def __init__(self, model, criterion=nn.CrossEntropyLoss()):\n        self.criterion = criterion\n",
    ],
    ids=["class-attribute", "constructor-default"],
)
def test_a_loss_held_by_a_trainer_object(holder: str) -> None:
    src = (
        holder
        + """        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def fit(self):
        for x, y in loader:
            self.opt.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.opt.step()

Trainer(nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))).fit()
"""
    )
    assert "TL201" in codes(src)


def test_a_custom_loss_module_whose_forward_calls_a_torch_loss() -> None:
    src = """
    class LabelLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.ce = nn.CrossEntropyLoss()

        def forward(self, logits, labels):
            return self.ce(logits, labels)

    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
    """
    assert "TL201" in codes(src, TRAIN.replace("nn.CrossEntropyLoss()", "LabelLoss()"))


def test_self_forward_in_a_module_is_its_output() -> None:
    src = """
    class Lit(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)
            self.loss_func = F.binary_cross_entropy_with_logits

        def forward(self, x):
            return torch.sigmoid(self.fc(x))

        def training_step(self, batch):
            x, y = batch
            return self.loss_func(self.forward(x), y)
    """
    assert "TL202" in codes(src)


# -- steps reached through a project object -------------------------------------------------


def test_an_optimizer_step_in_a_method_of_a_runner_object() -> None:
    src = """
    class Runner:
        def __init__(self, model):
            self.opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def apply(self):
            self.opt.step()
            self.opt.zero_grad()

    model = nn.Linear(4, 3)
    runner = Runner(model)
    for x, y in loader:
        F.cross_entropy(model(x), y).backward()
        runner.apply()
    """
    assert codes(src) == []


def test_an_optimizer_wrapper_returned_beside_the_model_only_when_training() -> None:
    # `get_model(train=True)` returns `model, optimizer`, and the model alone otherwise: the
    # return that cannot be unpacked into two names is another mode's, not an unknown value
    src = """
    class ScheduledOptim:
        def __init__(self, model):
            self._opt = torch.optim.Adam(model.parameters())

        def step_and_update_lr(self):
            self._opt.step()

        def zero_grad(self):
            self._opt.zero_grad()

    def get_model(train=False):
        model = nn.Linear(4, 2)
        if train:
            return model, ScheduledOptim(model)
        model.eval()
        return model

    model, optimizer = get_model(train=True)
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        criterion(model(x), y).backward()
        optimizer.step_and_update_lr()
        optimizer.zero_grad()
    """
    assert codes(src) == []
    assert codes(src.replace("        optimizer.step_and_update_lr()\n", "")) == ["TL103"]


# -- optional and collected objects ---------------------------------------------------------


def test_an_optional_grad_scaler_is_still_a_scaler() -> None:
    src = """
    amp = True
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.cuda.amp.GradScaler() if amp else None
    for x, y in loader:
        opt.zero_grad()
        scaler.scale(F.cross_entropy(model(x), y)).backward()
        scaler.step(opt)
    """
    assert "TL107" in codes(src)


@pytest.mark.parametrize(
    "steps", ["opts[0].step()\nopts[1].step()", "for o in opts:\n    o.step()"], ids=["indexed", "looped"]
)
def test_optimizers_kept_in_a_list_are_optimizers(steps: str) -> None:
    src = """
    gen, disc = nn.Linear(4, 4), nn.Linear(4, 1)
    opts = [torch.optim.Adam(gen.parameters(), lr=1e-3), torch.optim.Adam(disc.parameters(), lr=1e-3)]
    for x, y in loader:
        disc(gen(x)).mean().backward()
    """
    body = textwrap.indent(steps, "    ")
    assert "TL101" in codes(textwrap.dedent(src) + body + "\n")
    cleared = textwrap.dedent(src) + "    for o in opts:\n        o.zero_grad()\n" + body + "\n"
    assert "TL101" not in codes(cleared)


# -- values through containers and equivalent operations ------------------------------------


def test_softmax_written_as_exp_of_log_softmax() -> None:
    src = "model = nn.Linear(4, 3)\n" + TRAIN.replace(
        "criterion(model(x), y)", "criterion(torch.exp(F.log_softmax(model(x), dim=1)), y)"
    )
    assert "TL201" in codes(src)


def test_outputs_stored_into_a_preallocated_buffer() -> None:
    src = """
    from torch.autograd import Variable
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        outs = Variable(torch.zeros(2, 8, 3)).to("cpu")
        for t in range(2):
            outs[t] = F.softmax(model(x[t]), dim=1)
        loss = F.cross_entropy(outs.view(-1, 3), y.view(-1))
        loss.backward()
        opt.step()
    """
    assert "TL201" in codes(src)


# -- graph cuts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rewrap",
    [
        "torch.tensor(F.mse_loss(out, y).item(), requires_grad=True)",
        "Variable(F.mse_loss(out, y).detach(), requires_grad=True)",
    ],
    ids=["tensor", "variable"],
)
def test_a_loss_rewrapped_as_a_new_leaf_is_cut_from_the_graph(rewrap: str) -> None:
    src = f"""
from torch.autograd import Variable
model = nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    out = model(x)
    loss = {rewrap}
    loss.backward()
    opt.step()
"""
    assert "TL601" in codes(src)


# -- exclusive paths ------------------------------------------------------------------------


def test_if_else_bodies_are_exclusive_paths() -> None:
    src = """
    import sys
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        loss = F.mse_loss(model(x), y)
        if sys.argv[1] == "double":
            opt.zero_grad()
            (loss * 2).backward()
            opt.step()
        else:
            opt.zero_grad()
            loss.backward()
            opt.step()
    """
    assert codes(src) == []


def test_an_epoch_function_called_with_a_constant_flag() -> None:
    src = """
    def run_epoch(model, loader, opt, train=True):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            if train:
                opt.zero_grad()
                loss.backward()
                opt.step()

    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run_epoch(model, loader, opt)
    model.eval()
    with torch.no_grad():
        run_epoch(model, loader, opt, train=False)
    """
    assert "TL108" not in codes(src) and "TL101" not in codes(src)


@pytest.mark.parametrize("term", ["aux_loss.item()", "aux_loss.detach() * beta"], ids=["item", "scaled-detach"])
def test_a_cut_term_added_into_a_live_loss(term: str) -> None:
    src = f"""
beta = 0.5
model, aux = nn.Linear(4, 1), nn.Linear(4, 1)
opt = torch.optim.SGD(list(model.parameters()) + list(aux.parameters()), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    main_loss = F.mse_loss(model(x), y)
    aux_loss = F.mse_loss(aux(x), y)
    loss = main_loss + {term}
    loss.backward()
    opt.step()
"""
    assert "TL601" in codes(src)
    assert "TL601" not in codes(src.replace(term, "aux_loss"))


def test_a_straight_through_estimator_is_not_a_cut_term() -> None:
    src = """
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        soft = F.softmax(model(x), dim=1)
        hard = F.one_hot(soft.argmax(1), 3).float()
        loss = F.mse_loss(hard, y) + soft.sum() - soft.detach().sum()
        loss.backward()
        opt.step()
    """
    assert "TL601" not in codes(src)


def test_a_member_sequential_built_with_add_module_in_init() -> None:
    src = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Sequential()
            self.head.add_module("fc", nn.Linear(4, 3))
            self.head.add_module("probs", nn.Softmax(dim=1))

        def forward(self, x):
            return self.head.forward(x)

    model = Net()
    """
    assert "TL201" in codes(src, TRAIN)


def test_a_loss_class_of_the_project_or_a_library_is_a_loss() -> None:
    src = """
    from detection.losses import MultiBoxLoss

    model = nn.Linear(4, 3)
    criterion = MultiBoxLoss(num_classes=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        loss_l, loss_c = criterion(model(x), y)
        opt.step()
    """
    assert "TL104" in codes(src)
    assert "TL104" not in codes(
        src.replace("        opt.step()", "        (loss_l + loss_c).backward()\n        opt.step()")
    )


def test_per_optimizer_account_of_a_gan_iteration() -> None:
    src = """
    gen, disc = nn.Linear(4, 4), nn.Linear(4, 1)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4)
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4)
    for x, y in loader:
        opt_d.zero_grad()
        loss_d = disc(x).mean() - disc(gen(x).detach()).mean()
        loss_d.backward()
        opt_g.zero_grad()
        loss_g = -disc(gen(x)).mean()
        loss_g.backward()
        opt_g.step()
    """
    found = [d for d in lint_source(program(src)) if d.code == "TL103"]
    assert len(found) == 1 and "opt_d" in found[0].message
    fixed = src.replace("        loss_d.backward()\n", "        loss_d.backward()\n        opt_d.step()\n")
    assert "TL103" not in codes(fixed)


def test_a_name_rebound_inside_the_loop_before_its_use() -> None:
    src = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)

        def forward(self, x):
            return torch.sigmoid(self.fc(x)), x

    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        pred, feats = model(x)
        pred = torch.squeeze(pred).type(torch.FloatTensor)
        loss = F.binary_cross_entropy_with_logits(pred, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    """
    assert "TL202" in codes(src)


# -- one finding per defect -------------------------------------------------------------------


def test_a_model_defect_is_reported_once_at_its_layer_with_every_loss_site() -> None:
    src = """
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=-1))

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch):
            x, y = batch
            return F.cross_entropy(self(x), y)

        def validation_step(self, batch):
            x, y = batch
            return F.cross_entropy(self(x), y)

        def test_step(self, batch):
            x, y = batch
            return F.cross_entropy(self(x), y)
    """
    text = program(src)
    (finding,) = [d for d in lint_source(text) if d.code == "TL201"]
    assert text.splitlines()[finding.span.line - 1].strip().startswith("self.net = nn.Sequential")
    sites = [r for r in finding.related if "fed this model's output" in r.message]
    assert len(sites) == 3


def test_definitions_in_exclusive_branches_both_reach_the_use() -> None:
    src = """
    import sys
    model = nn.Linear(4, 3)
    if sys.argv[1] == "ctc":
        if sys.argv[2] == "fast":
            criterion = nn.CTCLoss()
        else:
            criterion = nn.CTCLoss(zero_infinity=True)
    else:
        criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        loss = criterion(model(x).log_softmax(2), y)
        loss.backward()
    """
    # The CTC branches do not overwrite the CrossEntropyLoss branch: the criterion is unknown.
    assert "TL201" not in codes(src)
    assert "TL201" in codes(
        src.replace("nn.CTCLoss(zero_infinity=True)", "nn.CrossEntropyLoss()").replace(
            "nn.CTCLoss()", "nn.CrossEntropyLoss()"
        )
    )


# -- values handed out by a `for` loop ---------------------------------------------------------


@pytest.mark.parametrize(
    "loop", ["for out in probs:", "for i, out in enumerate(probs):", "for out, t in zip(probs, targets):"]
)
def test_a_row_of_a_softmaxed_tensor_is_still_softmaxed(loop: str) -> None:
    src = f"""
    criterion = nn.CrossEntropyLoss()

    def pair_loss(scores, targets):
        probs = torch.softmax(scores, -1)
        total = 0
        {loop}
            total = total + criterion(out, torch.arange(out.shape[0]))
        return total
    """
    assert codes(src) == ["TL201"]
    assert codes(src.replace("torch.softmax(scores, -1)", "scores * 2")) == []


def test_an_element_of_a_list_of_outputs_shares_their_last_operation() -> None:
    src = """
    criterion = nn.CrossEntropyLoss()

    def step(a, b, y):
        total = 0
        for out in [F.softmax(a, dim=1), F.softmax(b, dim=1)]:
            total = total + criterion(out, y)
        return total
    """
    assert codes(src) == ["TL201"]
    assert codes(src.replace("F.softmax(b, dim=1)", "b")) == []  # the elements disagree


# -- a constructor default that no visible caller overrides ----------------------------------


def test_a_loss_module_uses_its_default_criterion_when_no_caller_is_seen() -> None:
    src = """
    class PairLoss(nn.Module):
        def __init__(self, loss=nn.CrossEntropyLoss(reduction="sum")):
            super().__init__()
            self.loss = loss

        def forward(self, scores, target):
            return self.loss(torch.softmax(scores, -1), target)
    """
    assert codes(src) == ["TL201"]
    # A caller that passes another criterion decides: the finding is then about that one.
    assert codes(src, "\ncrit = PairLoss(loss=nn.NLLLoss())\n") == ["TL204"]


# -- type annotations say what a parameter or a field holds ----------------------------------

GENERATE_EVAL = """
from dataclasses import dataclass
from transformers import AdamW, {cls}


@dataclass
class Context:
    model: {cls}
    val_loader: object


def predict(model: {cls}, loader):
    with torch.no_grad():
        return [model.generate(batch["input"]) for batch in loader]


def validate(context: Context):
    return len(predict(context.model, context.val_loader))


def train(context: Context, train_loader):
    model = context.model
    optimizer = AdamW(model.parameters(), lr=1e-4)
    model.train()
    for epoch in range(3):
        for batch in train_loader:
            loss = model(pixel_values=batch["input"], labels=batch["label"]).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        validate(context)
"""


def test_a_typed_field_and_a_typed_parameter_carry_a_library_model() -> None:
    # `model.generate` under no_grad, reached from the training loop, with dropout still on.
    assert "TL403" in codes(GENERATE_EVAL.format(cls="VisionEncoderDecoderModel"))
    assert "TL403" not in codes(
        GENERATE_EVAL.format(cls="VisionEncoderDecoderModel").replace(
            "    with torch.no_grad():", "    model.eval()\n    with torch.no_grad():"
        )
    )


def test_a_pretrained_family_without_dropout_is_not_judged() -> None:
    # Llama-style configurations have no dropout: train and eval mode compute the same.
    assert "TL403" not in codes(GENERATE_EVAL.format(cls="LlamaForCausalLM"))


def test_optional_annotations_and_project_classes() -> None:
    src = """
    from typing import Optional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    def step(model: Optional[Net], x, y):
        return F.cross_entropy(model(x), y)
    """
    assert codes(src) == ["TL201"]
    assert codes(src.replace("Optional[Net]", "Net | None")) == ["TL201"]


# -- loaders made by a helper that returns several -------------------------------------------

LOADERS_HELPER = """
import os
from torch.utils.data import DataLoader, Dataset

class Tiles(Dataset):
    def __init__(self, folder):
        self.files = sorted(os.listdir(folder))

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return torch.load(self.files[i])

def make_loaders(batch_size):
    train_ds = Tiles("data/train")
    val_ds = Tiles("data/val")
    train_loader = DataLoader(train_ds, batch_size=batch_size, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=batch_size)
    return train_loader, val_loader

def train(loader, model, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

model = nn.Linear(3, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
{unpack}
for epoch in range(5):
    train(train_loader, model, optimizer)
"""


@pytest.mark.parametrize(
    "unpack",
    [
        "train_loader, val_loader = make_loaders(8)",
        "loaders = make_loaders(8)\ntrain_loader, val_loader = loaders",
    ],
)
def test_the_training_loader_returned_by_a_helper_is_judged(unpack: str) -> None:
    src = LOADERS_HELPER.format(unpack=unpack)
    assert "TL302" in codes(src)
    assert "TL302" not in codes(
        src.replace("batch_size=batch_size, drop_last=True", "batch_size=batch_size, shuffle=True")
    )
    # Only the element the loop reads counts: swapping them makes the validation loader train.
    swapped = src.replace("return train_loader, val_loader", "return val_loader, train_loader")
    assert "TL302" in codes(
        swapped.replace("batch_size=batch_size, drop_last=True", "batch_size=batch_size, shuffle=True")
    )


# -- model registries ----------------------------------------------------------------------------

REGISTRY = """
class ConvNet(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return x, F.log_softmax(self.fc(x), dim=1)

_FACTORY = {"cnn": ConvNet}

def create(name, num_classes):
    return _FACTORY[name](num_classes)

model = create("cnn", 3)
criterion = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    features, outputs = model(x)
    loss = criterion(outputs, y)
    loss.backward()
    opt.step()
"""


def test_a_model_built_through_a_registry_dict() -> None:
    assert codes(REGISTRY) == ["TL201"]
    assert codes(REGISTRY.replace("F.log_softmax(self.fc(x), dim=1)", "self.fc(x)")) == []
    # An entry the analysis cannot see (`**more`) makes the registry unknown: nothing reported.
    assert codes(REGISTRY.replace('{"cnn": ConvNet}', '{"cnn": ConvNet, **more}')) == []


def test_a_library_model_imported_from_its_submodule_keeps_its_class_name() -> None:
    # `transformers.models.bert.BertForSequenceClassification`: the family is read from the
    # class, not from the package path.
    src = GENERATE_EVAL.format(cls="VisionEncoderDecoderModel").replace(
        "from transformers import AdamW, VisionEncoderDecoderModel",
        "from transformers import AdamW\nfrom transformers.models.vision_encoder_decoder import VisionEncoderDecoderModel",
    )
    assert "TL403" in codes(src)
