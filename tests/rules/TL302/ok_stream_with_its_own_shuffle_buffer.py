"""A sharded streaming dataset shuffled in the stream (`.shuffle(1000)`, a shuffle buffer),
decoded and mapped, then batched by a DataLoader without `shuffle=True` (which an
`IterableDataset` would reject anyway)."""

import torch
import torch.nn as nn
import webdataset as wds
from torch.utils.data import DataLoader


def to_pair(sample: dict) -> tuple:
    return torch.as_tensor(sample["jpg"]).float(), int(sample["cls"])


def train(urls: list, epochs: int) -> None:
    dataset = wds.WebDataset(urls).shuffle(1000).decode("rgb")
    dataset = dataset.map(to_pair)
    loader = DataLoader(dataset, batch_size=16)  # ok: shuffled in the stream
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
