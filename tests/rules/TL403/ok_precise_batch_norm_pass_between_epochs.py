"""Between training epochs a helper re-estimates the batch-norm statistics on training batches:
it runs the model in training mode on purpose, and drops each forward's output (only the
running averages it leaves behind matter). The evaluation that follows switches to eval mode."""

import itertools

import torch
import torch.nn as nn


@torch.no_grad()
def recompute_bn_stats(model, loader, batches=20):
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    means = [torch.zeros_like(bn.running_mean) for bn in norms]
    for bn in norms:
        bn.momentum = 1.0
    for images, _ in itertools.islice(loader, batches):
        model(images)  # ok: the output is dropped, the batch-norm buffers are what this pass is for
        for i, bn in enumerate(norms):
            means[i] += bn.running_mean / batches
    for i, bn in enumerate(norms):
        bn.running_mean = means[i]


def train(model, loader, val_loader, optimizer, epochs=10):
    for _ in range(epochs):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
        recompute_bn_stats(model, loader)
        model.eval()
        with torch.no_grad():
            correct = sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader)
        print(correct)


net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
train(net, torch.load("train.pt"), torch.load("val.pt"), torch.optim.SGD(net.parameters(), lr=0.1))
