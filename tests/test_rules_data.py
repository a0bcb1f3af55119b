"""TL301-TL303: unnormalised inputs, unshuffled training loaders, NaN-prone tabular data."""

from __future__ import annotations

import textwrap
from typing import Dict, List, Tuple

import pytest

from trainlint.diagnostics import Severity
from trainlint.testing import lint_files, lint_source


def hits(src: str, code: str) -> List[int]:
    return [d.line for d in _diags(src, code)]


def _diags(src: str, code: str):  # type: ignore[no-untyped-def]
    return [d for d in lint_source(textwrap.dedent(src), select=[code]) if d.code == code]


def file_hits(files: Dict[str, str], code: str) -> List[Tuple[str, int]]:
    files = {k: textwrap.dedent(v) for k, v in files.items()}
    return [(d.path, d.span.line) for d in lint_files(files, select=[code]) if d.code == code]


# A training loop over `loader` that the cases below reuse.
LOOP = """
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
"""

HEAD = """
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
"""

# ------------------------------------------------------------------------------ TL301

TL301_FIRES = {
    "randint-0-256-float": HEAD + """
images = torch.randint(0, 256, (128, 1, 8, 8)).float()
labels = torch.randint(0, 2, (128,))
loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
""" + LOOP,
    "uint8-array-from-helper": HEAD + """
def load_patches(n):
    pixels = np.random.randint(0, 200, size=(n, 1, 8, 8))
    return pixels.astype(np.uint8), np.random.randint(0, 2, size=n)

def main():
    pixels, labels = load_patches(64)
    images = torch.from_numpy(pixels).float()
    loader = DataLoader(TensorDataset(images, torch.from_numpy(labels)), batch_size=8, shuffle=True)
    train(nn.Sequential(nn.Flatten(), nn.Linear(64, 2)), loader)

def train(model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

main()
""",
    "csv-features": HEAD + """
df = pd.read_csv("houses.csv").dropna()
features = torch.tensor(df[["sqft", "year"]].values, dtype=torch.float32)
target = torch.tensor(df["price"].values, dtype=torch.float32)
loader = DataLoader(TensorDataset(features, target), batch_size=16, shuffle=True)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(xb).squeeze(1), yb)
    loss.backward()
    optimizer.step()
""",
    "torchvision-dataset-raw-data": HEAD + """
from torchvision import datasets
mnist = datasets.MNIST("data", train=True, download=True)
images = mnist.data.float().unsqueeze(1)
loader = DataLoader(TensorDataset(images, mnist.targets), batch_size=64, shuffle=True)
""" + LOOP.replace("nn.Linear(64, 16)", "nn.Linear(784, 16)"),
    "trainer-class-uint8-tensor": HEAD + """
class Trainer:
    def __init__(self, model, images, labels):
        self.model = model
        self.loader = DataLoader(TensorDataset(images, labels), batch_size=8, shuffle=True)
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def fit(self):
        for x, y in self.loader:
            self.opt.zero_grad()
            loss = nn.functional.cross_entropy(self.model(x.float()), y)
            loss.backward()
            self.opt.step()

raw = torch.zeros(32, 64, dtype=torch.uint8)
Trainer(nn.Linear(64, 2), raw, torch.zeros(32, dtype=torch.long)).fit()
""",
}

TL301_TRANSFORM_DATASET = """
import torch
import torch.nn as nn
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class Folder(Dataset):
    def __init__(self, paths, labels, transform):
        self.paths, self.labels, self.transform = paths, labels, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        image = Image.open(self.paths[i]).convert("RGB")
        return self.transform(image), self.labels[i]


tf = transforms.Compose([transforms.Resize(32), transforms.ToTensor()])
loader = DataLoader(Folder(["a.png"], [0], tf), batch_size=4, shuffle=True)
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for images, labels in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
"""


@pytest.mark.parametrize("name", sorted(TL301_FIRES))
def test_tl301_fires(name: str) -> None:
    assert len(hits(TL301_FIRES[name], "TL301")) == 1


def test_tl301_reports_the_float_conversion_with_the_source_related() -> None:
    diags = _diags(TL301_FIRES["uint8-array-from-helper"], "TL301")
    assert len(diags) == 1
    src = textwrap.dedent(TL301_FIRES["uint8-array-from-helper"]).splitlines()
    assert "torch.from_numpy(pixels).float()" in src[diags[0].line - 1]
    assert any("astype(np.uint8)" in src[r.line - 1] for r in diags[0].related)
    assert "255" in diags[0].message


def test_tl301_transform_in_custom_dataset() -> None:
    lines = hits(TL301_TRANSFORM_DATASET, "TL301")
    src = TL301_TRANSFORM_DATASET.splitlines()
    assert len(lines) == 1 and "ToTensor()" in src[lines[0] - 1]


def test_tl301_transform_with_normalize_is_silent() -> None:
    fixed = TL301_TRANSFORM_DATASET.replace(
        "transforms.ToTensor()])", "transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])"
    )
    assert hits(fixed, "TL301") == []


def test_tl301_cross_file_loader() -> None:
    files = {
        "data.py": """
            import numpy as np
            import torch
            from torch.utils.data import DataLoader, TensorDataset

            def make_loader():
                raw = np.load("pixels.npy").astype(np.uint8)
                x = torch.from_numpy(raw).float()
                y = torch.zeros(len(x), dtype=torch.long)
                return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
        """,
        "train.py": """
            import torch
            import torch.nn as nn
            from data import make_loader

            model = nn.Linear(16, 2)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for xb, yb in make_loader():
                opt.zero_grad()
                nn.functional.cross_entropy(model(xb), yb).backward()
                opt.step()
        """,
    }
    assert file_hits(files, "TL301") == [("data.py", 8)]


TL301_SILENT = {
    "divided-by-255": TL301_FIRES["randint-0-256-float"].replace(".float()", ".float() / 255.0"),
    "in-place-division": TL301_FIRES["randint-0-256-float"].replace(
        "labels = torch", "images /= 255.0\nlabels = torch"
    ),
    "standardised-in-loop": TL301_FIRES["randint-0-256-float"].replace(
        "    optimizer.zero_grad()", "    xb = (xb - xb.mean()) / xb.std()\n    optimizer.zero_grad()"
    ),
    "standard-scaler": TL301_FIRES["csv-features"].replace(
        'torch.tensor(df[["sqft", "year"]].values', 'torch.tensor(StandardScaler().fit_transform(df[["sqft", "year"]].values)'
    ).replace("import numpy as np", "import numpy as np\nfrom sklearn.preprocessing import StandardScaler"),
    "batchnorm-first-layer": TL301_FIRES["csv-features"].replace(
        "nn.Sequential(nn.Linear(2, 8)", "nn.Sequential(nn.BatchNorm1d(2), nn.Linear(2, 8)"
    ),
    "model-class-normalises-in-forward": HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(64)
        self.fc = nn.Linear(64, 2)

    def forward(self, x):
        x = self.norm(x.flatten(1))
        return self.fc(x)

images = torch.randint(0, 256, (128, 64)).float()
loader = DataLoader(TensorDataset(images, torch.zeros(128, dtype=torch.long)), batch_size=16, shuffle=True)
model = Net()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    opt.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    opt.step()
""",
    "token-ids-not-floats": HEAD + """
tokens = torch.randint(0, 1000, (128, 16))
loader = DataLoader(TensorDataset(tokens, torch.zeros(128, dtype=torch.long)), batch_size=16, shuffle=True)
model = nn.Sequential(nn.Embedding(1000, 8), nn.Flatten(), nn.Linear(128, 2))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    opt.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    opt.step()
""",
    "evaluation-only": HEAD + """
images = torch.randint(0, 256, (128, 64)).float()
loader = DataLoader(TensorDataset(images, torch.zeros(128, dtype=torch.long)), batch_size=16)
model = nn.Linear(64, 2)
with torch.no_grad():
    for xb, yb in loader:
        print(model(xb).argmax(1))
""",
    "unknown-helper-may-normalise": HEAD + """
from mylib import preprocess
images = preprocess(torch.randint(0, 256, (128, 64)).float())
loader = DataLoader(TensorDataset(images, torch.zeros(128, dtype=torch.long)), batch_size=16, shuffle=True)
""" + LOOP,
}


@pytest.mark.parametrize("name", sorted(TL301_SILENT))
def test_tl301_silent(name: str) -> None:
    assert hits(TL301_SILENT[name], "TL301") == []


# ------------------------------------------------------------------------------ TL302

UNSHUFFLED = HEAD + """
x = torch.randn(64, 64)
y = torch.arange(64) // 32  # rows sorted by class
loader = DataLoader(TensorDataset(x, y), batch_size=8)
""" + LOOP

TL302_FIRES = {
    "top-level": UNSHUFFLED,
    "explicit-false-every-epoch": HEAD + """
x = torch.randn(64, 64)
y = torch.arange(64) // 32  # sorted by class
loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=False)
model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(10):
    for xb, yb in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        optimizer.step()
""",
    "helper-receives-loader": HEAD + """
def train_one_epoch(model, loader, optimizer):
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()

def main():
    ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
    train_loader = DataLoader(ds, batch_size=8)
    val_loader = DataLoader(ds, batch_size=64)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        train_one_epoch(model, train_loader, opt)
        with torch.no_grad():
            for a, b in val_loader:
                model(a)

main()
""",
    "trainer-builds-loader-from-dataset-argument": HEAD + """
class Trainer:
    def __init__(self, model, dataset, batch_size=32):
        self.model = model
        self.loader = DataLoader(dataset, batch_size=batch_size)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def _step(self, batch):
        inputs, labels = batch
        self.optimizer.zero_grad()
        loss = nn.functional.cross_entropy(self.model(inputs), labels)
        loss.backward()
        self.optimizer.step()

    def fit(self):
        for batch in self.loader:
            self._step(batch)

Trainer(nn.Linear(4, 2), TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)).fit()
""",
    "enumerate-tqdm-wrappers": HEAD + """
from tqdm import tqdm
loader = DataLoader(TensorDataset(torch.randn(64, 64), torch.arange(64) // 32), batch_size=8)
model = nn.Linear(64, 2)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for i, (xb, yb) in enumerate(tqdm(loader)):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    optimizer.step()
""",
    "lightning-train-dataloader": """
import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


class Model(L.LightningModule):
    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(64, 4), torch.arange(64) // 32), batch_size=8)

    def val_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(16, 4), torch.arange(16) // 8), batch_size=8)
""",
}


@pytest.mark.parametrize("name", sorted(TL302_FIRES))
def test_tl302_fires(name: str) -> None:
    assert len(hits(TL302_FIRES[name], "TL302")) == 1


def test_tl302_reports_the_loader_and_names_the_loop() -> None:
    diags = _diags(UNSHUFFLED, "TL302")
    src = textwrap.dedent(UNSHUFFLED).splitlines()
    assert "DataLoader(" in src[diags[0].line - 1]
    assert diags[0].severity == Severity.WARNING
    assert any("for xb, yb in loader" in src[r.line - 1] for r in diags[0].related)
    assert "shuffle=True" in diags[0].message


def test_tl302_unknown_dataset_is_reported_at_lower_severity() -> None:
    src = HEAD + """
from somewhere import build_dataset
loader = DataLoader(build_dataset(), batch_size=8)
""" + LOOP
    diags = _diags(src, "TL302")
    assert len(diags) == 1 and diags[0].severity == Severity.INFO


def test_tl302_cross_file() -> None:
    files = {
        "data.py": """
            import torch
            from torch.utils.data import DataLoader, TensorDataset

            def loaders():
                ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
                return DataLoader(ds, batch_size=8), DataLoader(ds, batch_size=64)
        """,
        "train.py": """
            import torch
            import torch.nn as nn
            from data import loaders

            train_loader, val_loader = loaders()
            model = nn.Linear(4, 2)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for xb, yb in train_loader:
                opt.zero_grad()
                nn.functional.cross_entropy(model(xb), yb).backward()
                opt.step()
        """,
    }
    # the first loader built on line 7 of data.py (classes in blocks, no shuffle) is the one trained on
    assert file_hits(files, "TL302") == [("data.py", 7)]
    files["train.py"] = files["train.py"].replace("train_loader, val_loader = loaders()", "train_loader = loaders()[0]")
    assert file_hits(files, "TL302") == [("data.py", 7)]
    # the other element is the shuffled one: silent
    files["data.py"] = files["data.py"].replace("DataLoader(ds, batch_size=8)", "DataLoader(ds, batch_size=8, shuffle=True)")
    assert file_hits(files, "TL302") == []


TL302_SILENT = {
    "shuffle-true": UNSHUFFLED.replace("batch_size=8)", "batch_size=8, shuffle=True)"),
    "shuffle-from-args": UNSHUFFLED.replace("batch_size=8)", "batch_size=8, shuffle=args.shuffle)"),
    "sampler": UNSHUFFLED.replace(
        "batch_size=8)", "batch_size=8, sampler=torch.utils.data.RandomSampler(x))"
    ),
    "distributed-sampler": UNSHUFFLED.replace(
        "batch_size=8)", "batch_size=8, sampler=DistributedSampler(TensorDataset(x, y)))"
    ).replace("import numpy as np", "import numpy as np\nfrom torch.utils.data.distributed import DistributedSampler"),
    "batch-sampler": UNSHUFFLED.replace("batch_size=8)", "batch_sampler=bucket_sampler)"),
    "kwargs": UNSHUFFLED.replace("batch_size=8)", "**loader_kwargs)"),
    "eval-loop-only": HEAD + """
loader = DataLoader(TensorDataset(torch.randn(64, 4), torch.arange(64) // 32), batch_size=8)
model = nn.Linear(4, 2)
model.eval()
with torch.no_grad():
    for xb, yb in loader:
        print((model(xb).argmax(1) == yb).float().mean())
""",
    "phase-dictionary": HEAD + """
ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
loaders = {"train": DataLoader(ds, batch_size=8, shuffle=True), "val": DataLoader(ds, batch_size=8)}
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for phase in ["train", "val"]:
    for x, y in loaders[phase]:
        loss = nn.functional.cross_entropy(model(x), y)
        if phase == "train":
            opt.zero_grad()
            loss.backward()
            opt.step()
""",
    "iterable-dataset": HEAD + """
from torch.utils.data import IterableDataset

class Stream(IterableDataset):
    def __iter__(self):
        while True:
            yield torch.randn(64), torch.tensor(0)

loader = DataLoader(Stream(), batch_size=8)
""" + LOOP,
    "shared-loop-with-conditional-backward": HEAD + """
def run_epoch(model, loader, optimizer=None):
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
run_epoch(model, DataLoader(ds, batch_size=8, shuffle=True), opt)
run_epoch(model, DataLoader(ds, batch_size=64))
""",
}


@pytest.mark.parametrize("name", sorted(TL302_SILENT))
def test_tl302_silent(name: str) -> None:
    assert hits(TL302_SILENT[name], "TL302") == []


# ------------------------------------------------------------------------------ TL303

CSV = HEAD + """
df = pd.read_csv("patients.csv")
X = df[["age", "bmi"]].values
features = torch.tensor(X, dtype=torch.float32)
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)
"""

TL303_FIRES = {
    "read-csv-top-level": CSV,
    "through-a-scaler": CSV.replace(
        'X = df[["age", "bmi"]].values', 'X = StandardScaler().fit_transform(df[["age", "bmi"]].values)'
    ).replace("import numpy as np", "import numpy as np\nfrom sklearn.preprocessing import StandardScaler"),
    "genfromtxt-in-helper": HEAD + """
def load(path):
    raw = np.genfromtxt(path, delimiter=",", skip_header=1)
    x, y = raw[:, :-1], raw[:, -1]
    return torch.from_numpy(x).float(), torch.from_numpy(y).float()

def main():
    x, y = load("table.csv")
    print(x.shape, y.shape)

main()
""",
    "dataset-class": HEAD + """
from torch.utils.data import Dataset

class Table(Dataset):
    def __init__(self, path):
        self.df = pd.read_csv(path)

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        row = self.df.iloc[i]
        return torch.tensor(row[["a", "b"]].values, dtype=torch.float32), torch.tensor(row["y"])
""",
    "nan-check-on-the-loss-does-not-count": CSV + """
loss = torch.tensor(0.0)
if torch.isnan(loss):
    raise SystemExit("diverged")
""",
}


@pytest.mark.parametrize("name", sorted(TL303_FIRES))
def test_tl303_fires(name: str) -> None:
    assert len(hits(TL303_FIRES[name], "TL303")) == 1


def test_tl303_reports_the_first_conversion_once_per_read() -> None:
    diags = _diags(CSV, "TL303")
    src = textwrap.dedent(CSV).splitlines()
    assert len(diags) == 1
    assert "features = torch.tensor(X" in src[diags[0].line - 1]
    assert any("pd.read_csv" in src[r.line - 1] for r in diags[0].related)


def test_tl303_cross_file() -> None:
    files = {
        "io_utils.py": """
            import pandas as pd

            def read_table(path):
                return pd.read_csv(path)
        """,
        "train.py": """
            import torch
            from io_utils import read_table

            df = read_table("a.csv")
            x = torch.tensor(df.values, dtype=torch.float32)
        """,
    }
    assert file_hits(files, "TL303") == [("train.py", 6)]


TL303_SILENT = {
    "dropna": CSV.replace('pd.read_csv("patients.csv")', 'pd.read_csv("patients.csv").dropna()'),
    "fillna-inplace": CSV.replace('X = df', 'df.fillna(0, inplace=True)\nX = df'),
    "imputer": CSV.replace(
        'X = df[["age", "bmi"]].values', 'X = SimpleImputer().fit_transform(df[["age", "bmi"]].values)'
    ).replace("import numpy as np", "import numpy as np\nfrom sklearn.impute import SimpleImputer"),
    "nan-to-num-on-tensor": CSV + "features = torch.nan_to_num(features)\n",
    "genfromtxt-filling-values": HEAD + """
raw = np.genfromtxt("t.csv", delimiter=",", filling_values=0.0)
x = torch.from_numpy(raw).float()
""",
    "loadtxt-is-not-a-source": HEAD + """
raw = np.loadtxt("t.csv", delimiter=",")
x = torch.from_numpy(raw).float()
""",
    "not-converted-to-tensors": HEAD + """
df = pd.read_csv("labels.csv")
print(df.describe())
""",
}


@pytest.mark.parametrize("name", sorted(TL303_SILENT))
def test_tl303_silent(name: str) -> None:
    assert hits(TL303_SILENT[name], "TL303") == []
