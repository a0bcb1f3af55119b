"""TL301-TL303 and TL501 on shapes measured on real public training code.

Every program here is written for this test (no code is copied from the repositories where
the shapes were seen): the `SILENT` cases were false positives on the real-code benchmark
(benchmarks/realcode), the `FIRES` cases are the true findings and bugs next to them that must
keep firing.
"""

from __future__ import annotations

import textwrap
from typing import Dict, List

import pytest

from trainlint.testing import lint_files, lint_source


def diags(src: str, code: str):  # type: ignore[no-untyped-def]
    return [d for d in lint_source(textwrap.dedent(src), select=[code]) if d.code == code]


def lines(src: str, code: str) -> List[int]:
    return [d.line for d in diags(src, code)]


# ------------------------------------------------------------------------------ TL501

LR_HEAD = """
import argparse
import torch
import torch.nn as nn
from torch import optim
"""

TL501_SILENT: Dict[str, str] = {
    # Adam-family rates of 0.02 to 0.2 are published, working settings on small models.
    "adam-0.02-one-linear-layer": LR_HEAD
    + """
net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
opt = optim.Adam(net.parameters(), lr=0.02)
""",
    "adam-3e-2-actor-critic": LR_HEAD
    + """
class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 128)
        self.actor = nn.Linear(128, 2)
        self.critic = nn.Linear(128, 1)

policy = Policy()
opt = optim.Adam(policy.parameters(), lr=3e-2)
""",
    "adam-0.2-linear-graph-model": LR_HEAD
    + """
lin = nn.Linear(500, 3)
opt = optim.Adam(lin.parameters(), lr=0.2, weight_decay=5e-6)
""",
    "adam-0.1-toy-rnn": LR_HEAD
    + """
rnn = nn.RNN(input_size=5, hidden_size=5, batch_first=True)
opt = optim.Adam(rnn.parameters(), lr=0.1)
""",
    "adam-5e-7-preference-tuning": LR_HEAD
    + """
policy = nn.Linear(64, 64)
opt = optim.AdamW(policy.parameters(), lr=5e-7)
""",
    "sgd-30-clipped-language-model": LR_HEAD
    + """
lm = nn.LSTM(400, 1150, 3)
opt = optim.SGD(lm.parameters(), lr=30, weight_decay=1.2e-6)
""",
    "sgd-tiny-rate-for-a-summed-loss": LR_HEAD
    + """
seg = nn.Conv2d(3, 21, 1)
criterion = nn.CrossEntropyLoss(reduction="sum")
opt = optim.SGD(seg.parameters(), lr=1e-10, momentum=0.99)
""",
    # One option's default serves an Adadelta branch; Adam is opt-in behind a flag.
    "option-default-shared-with-adadelta": LR_HEAD
    + """
def build(params, opt):
    if opt.use_adam:
        return optim.Adam(params, lr=opt.lr, betas=(0.9, 0.999))
    return optim.Adadelta(params, lr=opt.lr, rho=0.95)

parser = argparse.ArgumentParser()
parser.add_argument("--use_adam", action="store_true")
parser.add_argument("--lr", type=float, default=1.0, help="1.0 suits Adadelta")
opt = parser.parse_args()
model = nn.Linear(8, 2)
optimizer = build(model.parameters(), opt)
""",
    "module-constant-shared-with-lbfgs": LR_HEAD
    + """
LR = 1.0
model = nn.Linear(8, 2)
def make(kind):
    if kind == "adam":
        return optim.Adam(model.parameters(), lr=LR)
    return optim.LBFGS(model.parameters(), lr=LR)
opt = make("lbfgs")
""",
    # Parameters that are not weight matrices.
    "latent-optimised-at-test-time": LR_HEAD
    + """
generator = nn.Linear(16, 64)
z = torch.randn(1, 16, requires_grad=True)
opt = optim.Adam([z], lr=1.0)
""",
    "soft-prompt-tuning": LR_HEAD
    + """
class Prompted(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.prompt = nn.Parameter(torch.zeros(20, 768))

model = Prompted(nn.Linear(768, 768))
opt = optim.AdamW(model.prompt_encoder.parameters(), lr=3.0)
""",
    "frozen-backbone-layernorm-tuning": LR_HEAD
    + """
model = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4), 2)
for name, p in model.named_parameters():
    p.requires_grad = "norm" in name
    if "norm" not in name:
        p.requires_grad = False
opt = optim.Adam(model.parameters(), lr=1.0)
""",
    "norm-parameters-by-name": LR_HEAD
    + """
model = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4), 2)
chosen = [p for n, p in model.named_parameters() if "norm" in n]
opt = optim.Adam(chosen, lr=2.0)
""",
    "param-groups-with-their-own-rates": LR_HEAD
    + """
model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 2))
opt = optim.Adam(
    [
        {"params": model[0].parameters(), "lr": 1e-4},
        {"params": model[1].parameters(), "lr": 1e-3},
    ],
    lr=10.0,
)
""",
    "lambda-schedules-built-per-optimizer": LR_HEAD
    + """
nets = [nn.Linear(8, 8) for _ in range(3)]
optimizers = [optim.Adam(n.parameters(), lr=1.0) for n in nets]
schedulers = [optim.lr_scheduler.LambdaLR(o, lambda step: 512 ** -0.5 * min((step + 1) ** -0.5, (step + 1) * 4000 ** -1.5)) for o in optimizers]
""",
}

TL501_FIRES: Dict[str, str] = {
    "adam-1": LR_HEAD + "model = nn.Linear(8, 2)\nopt = optim.Adam(model.parameters(), lr=1)\n",
    "adam-10": LR_HEAD + "model = nn.Linear(8, 2)\nopt = optim.AdamW(model.parameters(), lr=10.0)\n",
    "adam-1e-7": LR_HEAD + "model = nn.Linear(8, 2)\nopt = optim.Adam(model.parameters(), lr=1e-7)\n",
    "adam-1e-9": LR_HEAD + "model = nn.Linear(8, 2)\nopt = optim.Adam(model.parameters(), lr=1e-9)\n",
    "sgd-1000": LR_HEAD + "model = nn.Linear(8, 2)\nopt = optim.SGD(model.parameters(), lr=1000.0)\n",
    "sgd-1e-8": LR_HEAD + "model = nn.Linear(8, 2)\nopt = optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)\n",
    # The same option default reaching two Adam-family optimizers is judged for both.
    "option-default-shared-within-one-family": LR_HEAD
    + """
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=2.0)
args = parser.parse_args()
g, d = nn.Linear(8, 8), nn.Linear(8, 1)
opt_g = optim.Adam(g.parameters(), lr=args.lr)
opt_d = optim.Adam(d.parameters(), lr=args.lr)
""",
    # A group without its own rate uses the constructor's.
    "param-group-without-its-own-rate": LR_HEAD
    + """
model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 2))
opt = optim.Adam([{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 1e-3}], lr=5.0)
""",
    "trainable-parameters-filtered-by-requires-grad": LR_HEAD
    + """
model = nn.Linear(8, 2)
opt = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=4.0)
""",
}


@pytest.mark.parametrize("name", sorted(TL501_SILENT))
def test_tl501_silent_on_real_code_shapes(name: str) -> None:
    assert lines(TL501_SILENT[name], "TL501") == []


@pytest.mark.parametrize("name", sorted(TL501_FIRES))
def test_tl501_still_fires(name: str) -> None:
    assert lines(TL501_FIRES[name], "TL501")


def test_tl501_one_finding_per_optimizer_for_a_shared_default() -> None:
    assert len(lines(TL501_FIRES["option-default-shared-within-one-family"], "TL501")) == 2


def test_tl501_message_gives_the_new_bounds() -> None:
    (d,) = diags(TL501_FIRES["adam-10"], "TL501")
    assert "3e-07 to 0.5" in d.message and "AdamW" in d.message


# ------------------------------------------------------------------------------ TL303

CSV_HEAD = """
import pandas as pd
import torch
from torch.utils.data import Dataset
"""

TL303_SILENT: Dict[str, str] = {
    "node-ids-as-long-index": CSV_HEAD
    + """
split = pd.read_csv("train_idx.csv.gz", compression="gzip", header=None)
seed_nodes = torch.tensor(split[0].values, dtype=torch.long)
""",
    "class-label-in-getitem": CSV_HEAD
    + """
class ReviewDataset(Dataset):
    def __init__(self, path, tokenizer):
        self.frame = pd.read_csv(path)
        self.ids = [tokenizer.encode(t) for t in self.frame["text"]]

    def __getitem__(self, i):
        label = self.frame.iloc[i]["label"]
        return torch.tensor(self.ids[i], dtype=torch.long), torch.tensor(label, dtype=torch.long)

    def __len__(self):
        return len(self.frame)
""",
    "long-cast-after-conversion": CSV_HEAD
    + """
df = pd.read_csv("edges.csv")
edge_index = torch.from_numpy(df[["src", "dst"]].values).long()
""",
    "int64-via-to": CSV_HEAD
    + """
df = pd.read_csv("items.csv")
item_ids = torch.as_tensor(df["item"].values).to(torch.int64)
""",
    "long-tensor-constructor": CSV_HEAD
    + """
df = pd.read_csv("items.csv")
item_ids = torch.LongTensor(df["item"].values)
""",
    "bool-mask": CSV_HEAD
    + """
df = pd.read_csv("split.csv")
train_mask = torch.tensor(df["is_train"].values, dtype=torch.bool)
""",
    "float-label-column": CSV_HEAD
    + """
df = pd.read_csv("reviews.csv")
targets = torch.tensor(df["label"].values, dtype=torch.float32)
""",
}

TL303_FIRES: Dict[str, str] = {
    "float-features": CSV_HEAD
    + """
df = pd.read_csv("sensors.csv")
features = torch.tensor(df[["temp", "pressure"]].values, dtype=torch.float32)
""",
    "features-next-to-a-long-label": CSV_HEAD
    + """
df = pd.read_csv("patients.csv")
labels = torch.tensor(df["label"].values, dtype=torch.long)
features = torch.tensor(df[["age", "bmi"]].values).float()
""",
}


@pytest.mark.parametrize("name", sorted(TL303_SILENT))
def test_tl303_silent_on_integer_tensors_and_labels(name: str) -> None:
    assert lines(TL303_SILENT[name], "TL303") == []


@pytest.mark.parametrize("name", sorted(TL303_FIRES))
def test_tl303_still_fires_on_float_features(name: str) -> None:
    assert len(lines(TL303_FIRES[name], "TL303")) == 1


def test_tl303_reports_the_feature_conversion_not_the_label() -> None:
    src = textwrap.dedent(TL303_FIRES["features-next-to-a-long-label"])
    (d,) = diags(src, "TL303")
    assert "features" in src.splitlines()[d.line - 1]


# ------------------------------------------------------------------------------ TL302

DATA_HEAD = """
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split
from torchvision import datasets, transforms
"""

EPOCHS = """
model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(5):
    for xb, yb in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        optimizer.step()
"""

MNIST = 'full = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())\n'

TL302_SILENT: Dict[str, str] = {
    "one-sample-subset": DATA_HEAD
    + MNIST
    + """
loader = DataLoader(Subset(full, range(1)), batch_size=1)
"""
    + EPOCHS,
    "one-batch-subset": DATA_HEAD
    + MNIST
    + """
few = Subset(full, range(5))
loader = DataLoader(few, batch_size=5)
"""
    + EPOCHS,
    "one-batch-subset-index-list": DATA_HEAD
    + MNIST
    + """
loader = DataLoader(Subset(full, [0, 1, 2]), batch_size=8)
"""
    + EPOCHS,
    "random-tensors": DATA_HEAD
    + """
x = torch.randn(256, 1, 28, 28)
y = torch.randint(0, 10, (256,))
loader = DataLoader(TensorDataset(x, y), batch_size=32)
"""
    + EPOCHS,
    "dead-else-of-if-1": DATA_HEAD
    + """
if 1:
    loader = DataLoader(datasets.MNIST("data", train=True, transform=transforms.ToTensor()), batch_size=32, shuffle=True)
else:
    ids = torch.arange(4096).view(-1, 64)
    loader = DataLoader(TensorDataset(ids, ids % 10), batch_size=8)
"""
    + EPOCHS,
    "dead-body-of-if-false": DATA_HEAD
    + """
if False:
    loader = DataLoader(datasets.MNIST("data", train=True, transform=transforms.ToTensor()), batch_size=32)
else:
    loader = DataLoader(datasets.MNIST("data", train=True, transform=transforms.ToTensor()), batch_size=32, shuffle=True)
"""
    + EPOCHS,
    # `shuffle=False` written out for a loader read in a single pass (a demo where every rank
    # of a sequence-parallel group must see the same sample).
    "explicit-false-single-pass": DATA_HEAD
    + """
from datasets import load_dataset

chats = load_dataset("some/chat-corpus", split="train[:12]")
dl = DataLoader(chats, batch_size=1, shuffle=False)
model = nn.Linear(8, 8)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)
for it, batch in enumerate(dl):
    optimizer.zero_grad()
    model(batch["x"]).sum().backward()
    optimizer.step()
""",
    # A throughput benchmark: one pass for a fixed number of steps over chunks that the
    # data helper already shuffled.
    "preshuffled-packed-chunks": DATA_HEAD
    + """
from datasets import load_dataset


def get_chunks(seq_len):
    raw = load_dataset("some/text-corpus", split="train[:5%]")
    packed = raw.map(lambda b: b, batched=True)
    return packed.shuffle(seed=42)


def main(steps=100):
    model = nn.Linear(8, 8)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    dataloader = DataLoader(get_chunks(1024), batch_size=1)
    for step, batch in enumerate(dataloader):
        if step >= steps:
            break
        model(batch["input_ids"]).sum().backward()
        optimizer.step()
        optimizer.zero_grad()


main()
""",
    # A Lightning module serving a fixed block of random tokens.
    "lightning-random-token-dataset": """
import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset


class RandomTokens(Dataset):
    def __init__(self, vocab, length):
        self.tokens = torch.randint(vocab, size=(len(self), length + 1), generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return 128

    def __getitem__(self, i):
        return self.tokens[i]


class LM(L.LightningModule):
    def train_dataloader(self):
        return DataLoader(RandomTokens(32000, 128), batch_size=8, num_workers=4)
""",
}

TL302_FIRES: Dict[str, str] = {
    "mnist-every-epoch": DATA_HEAD
    + MNIST
    + """
loader = DataLoader(full, batch_size=64)
"""
    + EPOCHS,
    "explicit-false-every-epoch": DATA_HEAD
    + MNIST
    + """
loader = DataLoader(full, batch_size=64, shuffle=False)
"""
    + EPOCHS,
    "subset-larger-than-a-batch": DATA_HEAD
    + MNIST
    + """
loader = DataLoader(Subset(full, range(1000)), batch_size=10)
"""
    + EPOCHS,
    "random-split-subset": DATA_HEAD
    + MNIST
    + """
train_part, val_part = random_split(full, [55000, 5000])
loader = DataLoader(train_part, batch_size=64)
"""
    + EPOCHS,
    "lightning-train-dataloader": """
import lightning as L
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class Data(L.LightningDataModule):
    def setup(self, stage=None):
        self.train_set = datasets.MNIST("data", train=True, transform=transforms.ToTensor())

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=32)
""",
    # Recall: the training loader handed to Lightning's Trainer.fit is never iterated in the file.
    "lightning-fit-positional": """
import lightning.pytorch as pl
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from mymodels import Learner

images = datasets.ImageFolder("photos", transform=transforms.ToTensor())
train_loader = DataLoader(images, batch_size=64, num_workers=4)
trainer = pl.Trainer(max_epochs=10)
trainer.fit(Learner(), train_loader)
""",
    "lightning-fit-keyword": """
import pytorch_lightning as pl
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from mymodels import Learner

train_loader = DataLoader(datasets.CIFAR10("data", train=True, transform=transforms.ToTensor()), batch_size=64)
val_loader = DataLoader(datasets.CIFAR10("data", train=False, transform=transforms.ToTensor()), batch_size=64)
trainer = pl.Trainer(max_epochs=10)
trainer.fit(Learner(), train_dataloaders=train_loader, val_dataloaders=val_loader)
""",
}


@pytest.mark.parametrize("name", sorted(TL302_SILENT))
def test_tl302_silent_on_real_code_shapes(name: str) -> None:
    assert lines(TL302_SILENT[name], "TL302") == []


@pytest.mark.parametrize("name", sorted(TL302_FIRES))
def test_tl302_still_fires(name: str) -> None:
    assert len(lines(TL302_FIRES[name], "TL302")) == 1


def test_tl302_random_split_is_not_blamed_on_grouped_data() -> None:
    (d,) = diags(TL302_FIRES["random-split-subset"], "TL302")
    assert "random_split" in d.message and "class" not in d.message


def test_tl302_fit_names_the_trainer_call() -> None:
    src = textwrap.dedent(TL302_FIRES["lightning-fit-keyword"])
    (d,) = diags(src, "TL302")
    text = src.splitlines()
    assert "train_loader = DataLoader" in text[d.line - 1]
    assert "Trainer.fit" in d.message
    assert any("trainer.fit(" in text[r.line - 1] for r in d.related)


def test_tl302_fit_with_overfit_batches_is_silent() -> None:
    src = TL302_FIRES["lightning-fit-positional"].replace(
        "pl.Trainer(max_epochs=10)", "pl.Trainer(max_epochs=10, overfit_batches=1)"
    )
    assert lines(src, "TL302") == []


def test_tl302_fit_with_a_shuffled_loader_is_silent() -> None:
    src = TL302_FIRES["lightning-fit-positional"].replace("num_workers=4)", "num_workers=4, shuffle=True)")
    assert lines(src, "TL302") == []


def test_tl302_single_pass_message_does_not_speak_of_epochs() -> None:
    src = (
        DATA_HEAD
        + MNIST
        + """
loader = DataLoader(full, batch_size=64)
model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for xb, yb in loader:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    optimizer.step()
"""
    )
    (d,) = diags(src, "TL302")
    assert "every epoch" not in d.message and "stored order" in d.message


def test_tl302_single_pass_across_files_keeps_firing_when_called_per_epoch() -> None:
    files = {
        "loop.py": textwrap.dedent("""
            import torch.nn as nn

            def train_one_epoch(model, loader, optimizer):
                for xb, yb in loader:
                    optimizer.zero_grad()
                    nn.functional.cross_entropy(model(xb), yb).backward()
                    optimizer.step()
        """),
        "main.py": textwrap.dedent("""
            import torch
            import torch.nn as nn
            from torch.utils.data import DataLoader
            from torchvision import datasets, transforms
            from loop import train_one_epoch

            train_set = datasets.MNIST("data", train=True, transform=transforms.ToTensor())
            loader = DataLoader(train_set, batch_size=64, shuffle=False)
            model = nn.Linear(784, 10)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for epoch in range(3):
                train_one_epoch(model, loader, opt)
        """),
    }
    got = [(d.path, d.span.line) for d in lint_files(files, select=["TL302"]) if d.code == "TL302"]
    assert got == [("main.py", 9)]


def test_tl302_fit_over_an_unresolved_dataset_is_silent() -> None:
    # A demo dataset class from a library (it may stream, or be a language-model corpus):
    # the loader is seen only through `fit`, so the rule needs the dataset's type to report.
    src = """
import lightning as L
from torch.utils.data import DataLoader
from lightning.pytorch.demos import WikiText2
from mymodels import LanguageModel

dataset = WikiText2()
loader = DataLoader(dataset, batch_size=1, num_workers=8)
trainer = L.Trainer(max_steps=100)
trainer.fit(LanguageModel(dataset.vocab_size), loader)
"""
    assert lines(src, "TL302") == []


def test_tl501_a_rate_of_exactly_zero_is_a_choice() -> None:
    src = """
import torch
import torch.nn as nn
local = nn.Linear(4, 2)
local_opt = torch.optim.Adam(local.parameters(), lr=0.0)
tiny_opt = torch.optim.Adam(local.parameters(), lr=1e-9)
"""
    found = [d for d in lint_source(src, select=["TL501"])]
    assert len(found) == 1 and "1e-09" in found[0].message
