"""The fixed evaluation epoch of a model built from a module imported by name runs under
`torch.no_grad()`."""

import importlib

import torch

MODEL = importlib.import_module("models.votenet")
net = MODEL.VoteNet(num_class=18)
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
TRAIN_LOADER = torch.load("train_batches.pt")
TEST_LOADER = torch.load("test_batches.pt")


class APCalculator:
    def __init__(self) -> None:
        self.preds = []

    def step(self, preds, gts):
        self.preds.append((preds, gts))


def train_one_epoch():
    net.train()
    for batch in TRAIN_LOADER:
        optimizer.zero_grad()
        loss = MODEL.get_loss(net(batch["points"]), batch)
        loss.backward()
        optimizer.step()


def evaluate_one_epoch():
    ap = APCalculator()
    net.eval()
    with torch.no_grad():
        for batch in TEST_LOADER:
            end_points = net(batch["points"])
            ap.step(end_points["boxes"], batch["boxes"])
    return ap


for epoch in range(10):
    train_one_epoch()
    evaluate_one_epoch()
