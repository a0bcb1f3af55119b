"""The semi-supervised loaders come from configuration sections (their `shuffle` set there);
the pretraining loader is built here without `shuffle=True`."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from voc import VOC


def fit(model: nn.Module, loader, epochs: int) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


def main(config: dict) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 21))
    supervised = VOC(config["train_supervised"])  # ok: `shuffle` comes from the configuration
    fit(model, supervised, 10)
    images, labels = torch.load("pretraining.pt")
    pretraining = DataLoader(TensorDataset(images, labels), batch_size=8)  # TL302
    fit(model, pretraining, 10)
